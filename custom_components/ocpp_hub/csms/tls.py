"""TLS for the central system (OCPP security profile 2): server context from files."""

from __future__ import annotations

from enum import StrEnum
import ssl

# TLS 1.2 suites with forward secrecy and authenticated encryption (TLS 1.3 has its own).
MODERN_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20:!aNULL:!eNULL"
# ... then the older TLS 1.2 suites old firmware needs: CBC, SHA-1, RSA key exchange
# (still no RC4, no 3DES, no export grade, no TLS 1.0 or 1.1).
LEGACY_CIPHERS = (
    f"{MODERN_CIPHERS}:ECDHE+AES:DHE+AES:AES128-GCM-SHA256:AES256-GCM-SHA384:"
    "AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:!aNULL:!eNULL:!aDSS:@SECLEVEL=1"
)


class TlsProblem(StrEnum):
    """What is wrong with the certificate files (values are translation keys)."""

    UNREADABLE = "cert_unreadable"
    MISMATCH = "cert_key_mismatch"


class TlsError(Exception):
    """The certificate or key cannot be used."""

    def __init__(self, problem: TlsProblem, detail: str) -> None:
        """Keep the problem kind and a detail for the log."""
        super().__init__(f"{problem}: {detail}")
        self.problem = problem


def server_context(certfile: str, keyfile: str | None, legacy: bool = False) -> ssl.SSLContext:
    """A server SSL context for ``certfile``/``keyfile`` (blocking: reads files).

    TLS 1.2 at least, always, with forward secrecy and authenticated
    encryption. ``legacy`` adds the older TLS 1.2 cipher suites (RSA key
    exchange, CBC with SHA-1) that some old charger firmware needs; TLS 1.0
    and 1.1 stay refused.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(LEGACY_CIPHERS if legacy else MODERN_CIPHERS)
    try:
        context.load_cert_chain(certfile, keyfile or None)
    except ssl.SSLError as err:  # before OSError: SSLError is one
        problem = (
            TlsProblem.MISMATCH if err.reason == "KEY_VALUES_MISMATCH" else TlsProblem.UNREADABLE
        )
        raise TlsError(problem, err.reason or str(err)) from err
    except OSError as err:
        raise TlsError(TlsProblem.UNREADABLE, err.strerror or str(err)) from err
    return context
