"""How the central system listens and what it tolerates: :class:`ServerConfig`, and
:func:`check_port` (whether a port can be bound, before the owner is told it works).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
import ssl

from .version import HandlerSettings


@dataclass(slots=True)
class ServerConfig:
    """How the central system listens."""

    host: str | None = None  # None: every interface
    port: int = 9000
    path_prefix: str = ""
    ssl_context: ssl.SSLContext | None = None
    ping_interval: float | None = 20.0
    ping_timeout: float | None = 20.0
    max_frame_bytes: int = 64 * 1024
    open_timeout: float = 10.0
    call_timeout: float = 30.0
    max_connections_per_address: int = 64  # chargers behind one NAT or proxy share one
    max_connections: int = 1024  # in all, handshaking ones included
    request_timeout: float = 5.0  # for the request line and headers after accepting
    max_password_checks: int = 2  # in parallel, in all (scrypt: 16 MiB and a thread each)
    max_auth_attempts_per_address: int = 4  # in flight; one once the address has failures
    flood_rate: float = 20.0  # messages a second a charger may send on average
    flood_burst: float = 500.0  # ... and at once (an offline backlog)
    flood_patience: float = 60.0  # seconds of continuous throttling before disconnecting
    auth_failures_for_report: int = 5  # wrong passwords in a row before the owner is told
    auth_delay: float = 0.5  # lockout: twice this after one failure, doubling with each
    auth_delay_cap: float = 30.0
    auth_max_wait: float = 5.0  # a longer lockout is answered at once: HTTP 429, Retry-After
    handler: HandlerSettings = field(default_factory=HandlerSettings)


async def check_port(host: str | None, port: int) -> OSError | None:
    """Try to bind ``host``:``port``; the error if it cannot be bound, else None."""
    loop = asyncio.get_running_loop()
    try:
        probe = await loop.create_server(asyncio.Protocol, host or None, port)
    except OSError as err:
        return err
    probe.close()
    await probe.wait_closed()
    return None
