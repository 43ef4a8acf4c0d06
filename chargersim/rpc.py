"""OCPP-J RPC over one websocket: framing, call/answer bookkeeping, CALLERRORs.

`RpcSession` is built on the ``ocpp`` library's ``ChargePoint`` (schema
validation, ``call()``, the ``@on`` route map) but inspects every frame before
the library sees it, because a test tool needs what the library does not offer:

- replies to a raw frame (`RpcSession.send_raw`) reach their waiter, late or
  unknown replies are dropped instead of piling up in the library's response
  queue, and a reply hook runs as the answer arrives (before any call behind it
  is read);
- before a CALL's handler runs, the `CallHandlers` may refuse it
  (`CallHandlers.screen`): answer with a CALLERROR of its choice, or not at all;
- work that must happen *after* the answer went out is queued by the handler
  (`CallHandlers.follow_up`) and started once the library has sent the answer.

The handlers are a separate object (`CallHandlers`, one subclass per OCPP
version); a version's session class mixes `RpcSession` with the library's
``ChargePoint`` of that version (its schemas and answer classes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import json
import logging
from typing import Any, Final, cast
import uuid

from ocpp.charge_point import (  # type: ignore[import-untyped, unused-ignore]
    ChargePoint as _OcppChargePoint,
)
from ocpp.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    FormatViolationError,
    OCPPError,
)
from ocpp.messages import Call  # type: ignore[import-untyped, unused-ignore]
from ocpp.routing import create_route_map  # type: ignore[import-untyped, unused-ignore]
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

__all__ = ["CallHandlers", "JSONDict", "NotConnectedError", "Refusal", "RpcSession"]

_LOGGER = logging.getLogger("chargersim")
# The ocpp library logs every frame at INFO level on the logger it is given.
_FRAME_LOGGER = logging.getLogger("chargersim.frames")

JSONDict = dict[str, Any]

# OCPP-J MessageTypeIds.
_CALL: Final = 2
_CALLRESULT: Final = 3
_CALLERROR: Final = 4


class NotConnectedError(ConnectionError):
    """A call was attempted while the charger has no open connection."""


@dataclass(frozen=True)
class Refusal:
    """How to answer a CALL instead of running its handler."""

    #: The CALLERROR code; None = no answer at all.
    code: str | None
    description: str = ""


class CallHandlers:
    """Answers the CSMS-initiated calls of one connection.

    A subclass has the ``@on`` handlers of one OCPP version. Handlers read the
    payload as it came over the wire (``self.payload``, camelCase, floats as
    floats) rather than the library's snake_case keyword arguments, in which
    schema validation has turned some numbers into ``Decimal``. A handler can
    queue a follow-up (``self.follow_up``) that is started once its answer has
    been sent.
    """

    def __init__(self) -> None:
        self.payload: JSONDict = {}
        self.follow_up: Callable[[], object] | None = None

    def screen(self, action: str, payload: JSONDict, *, handled: bool) -> Refusal | None:
        """Called for every well-formed CALL before its handler (``handled``: there
        is one). None runs the handler; a `Refusal` answers instead."""
        del action, payload
        return None if handled else Refusal("NotImplemented", "Unknown action")

    def after(self, start: Callable[[], object]) -> None:
        """Call ``start()`` once the answer has been sent."""
        self.follow_up = start

    def take_follow_up(self) -> Callable[[], object] | None:
        follow_up, self.follow_up = self.follow_up, None
        return follow_up


class RpcSession(_OcppChargePoint):  # type: ignore[misc]  # the ocpp library is untyped
    """The OCPP-J RPC state of one websocket connection."""

    #: The exception a malformed payload is answered with (OCPP 1.6 spells the
    #: code "FormationViolation", the library "FormatViolation").
    format_violation: type[OCPPError] = FormatViolationError

    def __init__(
        self,
        identity: str,
        ws: ClientConnection,
        handlers: CallHandlers,
        *,
        response_timeout: float,
        on_closed: Callable[[RpcSession], None],
    ) -> None:
        super().__init__(identity, ws, response_timeout=response_timeout, logger=_FRAME_LOGGER)
        self.route_map = create_route_map(handlers)
        self.handlers = handlers
        self.ws = ws
        self.closed = asyncio.Event()
        self.close_exc: ConnectionClosed | None = None
        self.task: asyncio.Task[None] | None = None
        self._on_closed = on_closed
        # Unique ids of our CALLs the library waits for, and their replies.
        self._pending: set[str] = set()
        self._replies: dict[str, list[Any]] = {}
        self._reply_hooks: dict[str, Callable[[JSONDict], None]] = {}
        self._raw_waiter: asyncio.Future[list[Any]] | None = None

    # -- the connection --------------------------------------------------------

    def start_receiving(self) -> None:
        self.task = asyncio.create_task(self._run(), name=f"chargersim-{self.id}")

    async def _run(self) -> None:
        """Receive frames until the connection closes."""
        try:
            await self.start()
        except ConnectionClosed as exc:
            self.close_exc = exc
        except Exception:
            _LOGGER.exception("%s: receive loop failed", self.id)
            await self.ws.close(code=1011)
        finally:
            self.closed.set()
            self._on_closed(self)

    def closed_error(self) -> Exception:
        if self.close_exc is not None:
            return self.close_exc
        return NotConnectedError(f"{self.id}: connection closed")

    # -- outgoing ----------------------------------------------------------------

    async def request(
        self, payload: Any, on_reply: Callable[[JSONDict], None] | None = None
    ) -> JSONDict:
        """Send a CALL (a library payload object); return the answer's payload.

        ``on_reply`` gets a CALLRESULT's payload as it arrives.
        """
        unique_id = str(uuid.uuid4())
        self._pending.add(unique_id)
        if on_reply is not None:
            self._reply_hooks[unique_id] = on_reply
        request = asyncio.ensure_future(self.call(payload, suppress=False, unique_id=unique_id))
        closed = asyncio.ensure_future(self.closed.wait())
        try:
            done, _ = await asyncio.wait({request, closed}, return_when=asyncio.FIRST_COMPLETED)
            if request not in done:
                raise self.closed_error()
            request.result()
            frame = self._replies.pop(unique_id)
            return cast(JSONDict, frame[2])
        finally:
            self._pending.discard(unique_id)
            self._replies.pop(unique_id, None)
            self._reply_hooks.pop(unique_id, None)
            for task in (request, closed):
                if not task.done():
                    task.cancel()

    async def send_raw(self, frame: str | bytes, *, expect_reply: bool, timeout: float) -> Any:
        """Send a frame as-is; see `SimulatedCharger.send_raw`."""
        if not expect_reply:
            await self.ws.send(frame)
            return None
        waiter: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._raw_waiter = waiter
        closed = asyncio.ensure_future(self.closed.wait())
        waiting: set[asyncio.Future[Any]] = {waiter, closed}
        try:
            await self.ws.send(frame)
            done, _ = await asyncio.wait(
                waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if waiter in done:
                return waiter.result()
            if closed in done:
                raise self.closed_error()
            raise TimeoutError(f"no reply to raw frame within {timeout} s")
        finally:
            self._raw_waiter = None
            closed.cancel()

    # -- incoming ----------------------------------------------------------------

    async def route_message(self, raw_msg: str | bytes) -> None:
        try:
            frame = json.loads(raw_msg)
        except ValueError:
            _LOGGER.warning("%s: ignoring a frame that is not JSON: %r", self.id, raw_msg)
            return
        if isinstance(frame, list) and frame and frame[0] == _CALL:
            await self._route_call(frame)
            return
        if not isinstance(frame, list):
            _LOGGER.warning("%s: ignoring a frame that is not a list: %r", self.id, frame)
            return
        unique_id = frame[1] if len(frame) > 1 else None
        if isinstance(unique_id, str) and unique_id in self._pending:
            self._replies[unique_id] = frame
            hook = self._reply_hooks.pop(unique_id, None)
            if hook is not None and frame[0] == _CALLRESULT:
                # Applied as the answer arrives, before any call that follows it is read
                # (a RemoteStopTransaction right behind a StartTransaction's answer).
                hook(frame[2])
            await super().route_message(raw_msg)
        elif self._raw_waiter is not None and not self._raw_waiter.done():
            self._raw_waiter.set_result(frame)
        else:
            _LOGGER.warning("%s: ignoring an unexpected reply: %r", self.id, frame)

    async def _route_call(self, frame: list[Any]) -> None:
        if (
            len(frame) != 4
            or not isinstance(frame[1], str)
            or not isinstance(frame[2], str)
            or not isinstance(frame[3], dict)
        ):
            _LOGGER.warning("%s: malformed CALL %r", self.id, frame)
            if len(frame) > 1 and isinstance(frame[1], str):
                code = self.format_violation.code
                await self._send_error(frame[1], code, "Malformed CALL frame")
            return
        unique_id, action, payload = frame[1], frame[2], frame[3]
        refusal = self.handlers.screen(action, payload, handled=action in self.route_map)
        if refusal is not None:
            if refusal.code is not None:
                await self._send_error(unique_id, refusal.code, refusal.description)
            return
        self.handlers.payload = payload
        msg = Call(unique_id, action, payload)
        try:
            await self._handle_call(msg)
        except OCPPError as error:
            # The library would log a traceback; one line is enough here.
            cause = error.details.get("cause") if isinstance(error.details, dict) else None
            _LOGGER.warning(
                "%s: answering %s with %s: %s",
                self.id,
                action,
                error.code,
                cause or error.description,
            )
            await self._send(msg.create_call_error(error).to_json())

    async def _handle_call(self, msg: Any) -> Any:
        self.handlers.follow_up = None
        try:
            result = await super()._handle_call(msg)
        except FormatViolationError as exc:
            self.handlers.follow_up = None
            if self.format_violation is FormatViolationError:
                raise
            raise self.format_violation(description=exc.description, details=exc.details) from exc
        except BaseException:
            self.handlers.follow_up = None
            raise
        follow_up = self.handlers.take_follow_up()
        if follow_up is not None:
            follow_up()
        return result

    async def _send_error(self, unique_id: str, code: str, description: str) -> None:
        await self._send(
            json.dumps([_CALLERROR, unique_id, code, description, {}], separators=(",", ":"))
        )
