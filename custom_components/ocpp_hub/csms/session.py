"""One charger connection: CALLs routed and answered, and our calls one at a time.

The receive loop handles frames strictly in order. A CALL is validated against
its schema, handed to the version handler (a plain synchronous function, so the
model and the entities change in the same event-loop turn) and answered exactly
once; anything malformed gets the CALLERROR that OCPP-J names, spelled as the
version of the connection spells it (its dialect), and the connection stays
open. Our own calls to the charger go through one lock: at most one is in
flight, the others wait in order, each has a timeout and fails with a
:class:`CallFailed` that says why. A charger that sends faster than its flood
guard allows is read no faster than the rate, and disconnected if it keeps on.
Reading and writing a frame is :mod:`.framing`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Coroutine
from datetime import UTC, datetime
import itertools
import logging
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from ..model.secrets import may_hold_secrets, redact_secrets
from .errors import CallFailed, FailureReason, OcppError, OcppErrorCode
from .framing import CALL, CALLERROR, CALLRESULT, FrameError, decode_frame, encode, replay_key
from .guard import FloodGuard
from .logtext import untrusted
from .validation import SchemaSet

_LOGGER = logging.getLogger(__name__)

_REPLAY_MEMORY = 8  # answers kept to repeat for a CALL that arrives twice
_LOG_MEMORY = 50  # frames kept for diagnostics
_LOG_FRAME_CHARS = 300  # of each (memory per charger stays small)

# CALLERROR code and description of a charger, as kept in errors and logs.
_ERROR_CODE_CHARS = 40
_ERROR_DESCRIPTION_CHARS = 100


class CallHandler(Protocol):
    """What a session needs from the OCPP version layer."""

    actions: frozenset[str]

    def handle_call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer a validated CALL, or raise :class:`OcppError`."""

    def connection_closed(self) -> None:
        """The connection ended (for any reason)."""


class Session:
    """A live websocket connection of one charger."""

    _ids = itertools.count(1)

    def __init__(
        self,
        connection: ServerConnection,
        identity: str,
        schemas: SchemaSet,
        *,
        call_timeout: float,
        flood: FloodGuard | None = None,
    ) -> None:
        """Wrap ``connection``; :meth:`attach` sets the handler before :meth:`run`."""
        self.connection = connection
        self.identity = identity
        self.schemas = schemas
        self.call_timeout = call_timeout
        self.flood = flood
        self.flooded = False
        self.remote_address = _address(connection)
        self.connected_at = datetime.now(UTC)
        self.handler: CallHandler | None = None
        self.frames: deque[tuple[str, str]] = deque(maxlen=_LOG_MEMORY)
        self._call_lock = asyncio.Lock()
        self._pending: tuple[str, str, asyncio.Future[dict[str, Any]]] | None = None
        # Answers to repeat: the frame sent, and its form in the frame log.
        self._answers: OrderedDict[tuple[str, str, bytes], tuple[str, str]] = OrderedDict()
        # The first problem of a connection is logged at WARNING / INFO, the rest at DEBUG.
        self._malformed_logged = False
        self._refusal_logged = False
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._finished = asyncio.Event()

    @property
    def closed(self) -> bool:
        """True once the connection has ended."""
        return self._closed

    def _spell(self, code: OcppErrorCode) -> str:
        """``code`` as the version of this connection writes it."""
        return self.schemas.dialect.spell(code)

    def attach(self, handler: CallHandler) -> None:
        """Set the version handler that answers CALLs."""
        self.handler = handler

    # --------------------------------------------------------------- receiving
    async def run(self) -> None:
        """Handle frames until the connection closes; then fail what is pending."""
        try:
            async for message in self.connection:
                if self.flooded or self._closed:
                    continue  # closing or replaced: drain without handling, so the close completes
                if self.flood is not None and (wait := self.flood.take()):
                    if self.flood.flooding:
                        self._refuse_flood()
                        continue
                    await asyncio.sleep(wait)  # read no faster than the rate
                await self._receive(message)
        except ConnectionClosed:
            pass
        finally:
            await self._teardown()

    def _refuse_flood(self) -> None:
        assert self.flood is not None
        self.flooded = True
        _LOGGER.warning(
            "Charger %s sent more than %g messages a second for %g s; disconnected",
            self.identity,
            self.flood.rate,
            self.flood.patience,
        )
        self.spawn(self.connection.close(CloseCode.POLICY_VIOLATION, "message flood"), "close")

    async def _receive(self, message: str | bytes) -> None:
        try:
            frame = decode_frame(message)
        except FrameError as err:
            # Not parsed, so its secrets cannot be found: only its size and fault are kept.
            self.frames.append(("in", f"<{len(message)} characters: {err.description}>"))
            # The description only: the exception would keep the whole frame alive.
            if self._malformed_logged:
                _LOGGER.debug(
                    "Charger %s sent a malformed frame: %s", self.identity, err.description
                )
            else:
                self._malformed_logged = True
                _LOGGER.warning(
                    "Charger %s sent a malformed frame: %s (more are logged at debug level)",
                    self.identity,
                    err.description,
                )
            await self._send(
                [CALLERROR, err.message_id, self._spell(err.code), err.description, {}]
            )
            return
        assert isinstance(message, str)  # decode_frame refuses binary frames
        self._log_frame("in", message, frame)
        kind, message_id = frame[0], frame[1]
        if kind == CALL:
            await self._answer_call(message_id, frame[2], frame[3])
        else:
            self._resolve(frame)

    async def _answer_call(self, message_id: str, action: str, payload: Any) -> None:
        key = replay_key(message_id, action, payload)
        repeated = self._answers.get(key) if key is not None else None
        if repeated is not None:
            # The same CALL again (a retry): same answer, nothing applied twice.
            self.frames.append(("out", repeated[1]))
            await self._write(repeated[0])
            return
        assert self.handler is not None
        try:
            if action not in self.handler.actions:
                code = (
                    OcppErrorCode.NOT_SUPPORTED
                    if action in self.schemas.known_actions
                    else OcppErrorCode.NOT_IMPLEMENTED
                )
                raise OcppError(
                    code, f"action {untrusted(action, 40)} is not handled by this central system"
                )
            self.schemas.validate_request(action, payload)
            result = self.handler.handle_call(action, payload)
            reply: list[Any] = [CALLRESULT, message_id, result]
        except OcppError as err:
            level = logging.DEBUG if self._refusal_logged else logging.INFO
            self._refusal_logged = True
            _LOGGER.log(
                level,
                "Charger %s: %s answered with %s",
                self.identity,
                untrusted(action, 40),
                untrusted(str(err), 200),
            )
            reply = [CALLERROR, message_id, self._spell(err.code), err.description, {}]
        except Exception:
            _LOGGER.exception("Charger %s: error handling %s", self.identity, untrusted(action, 40))
            reply = [
                CALLERROR,
                message_id,
                self._spell(OcppErrorCode.INTERNAL_ERROR),
                "internal error",
                {},
            ]
        text = encode(reply)
        logged = self._log_frame("out", text, reply)
        if key is not None:
            self._answers[key] = (text, logged)
            if len(self._answers) > _REPLAY_MEMORY:
                self._answers.popitem(last=False)
        await self._write(text)

    def _resolve(self, frame: list[Any]) -> None:
        pending = self._pending
        if pending is None or pending[0] != frame[1] or pending[2].done():
            _LOGGER.info(
                "Charger %s answered message %r that is not awaiting an answer; ignored",
                self.identity,
                untrusted(frame[1], 40),
            )
            return
        _, action, future = pending
        if frame[0] == CALLRESULT:
            try:
                self.schemas.validate_response(action, frame[2])
            except OcppError as err:
                future.set_exception(CallFailed(action, FailureReason.INVALID_RESPONSE, str(err)))
                return
            future.set_result(frame[2])
            return
        # Bounded and escaped: both become part of errors shown and logged.
        code = untrusted(frame[2], _ERROR_CODE_CHARS)
        description = untrusted(frame[3], _ERROR_DESCRIPTION_CHARS)
        reason = (
            FailureReason.NOT_SUPPORTED
            if code in (OcppErrorCode.NOT_SUPPORTED, OcppErrorCode.NOT_IMPLEMENTED)
            else FailureReason.CALL_ERROR
        )
        future.set_exception(CallFailed(action, reason, f"{code}: {description}"))

    # ----------------------------------------------------------------- calling
    async def call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL and return the charger's answer payload.

        Waits its turn behind calls already in flight. The timeout covers sending
        too: a charger that stops reading cannot hold a call (and the calls
        queued behind it) for ever. Raises :class:`CallFailed` (offline,
        timeout, CALLERROR, invalid answer).
        """
        if self._closed:
            raise CallFailed(action, FailureReason.OFFLINE)
        async with self._call_lock:
            if self._closed:
                raise CallFailed(action, FailureReason.OFFLINE)
            message_id = f"{next(self._ids)}"
            future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending = (message_id, action, future)
            try:
                async with asyncio.timeout(timeout or self.call_timeout):
                    await self._send([CALL, message_id, action, payload])
                    return await future
            except TimeoutError:
                raise CallFailed(action, FailureReason.TIMEOUT) from None
            except ConnectionClosed:
                raise CallFailed(action, FailureReason.OFFLINE) from None
            finally:
                self._pending = None
                if not future.done():
                    future.cancel()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any] | None:
        """Run ``coro`` alongside the connection; it is cancelled when the connection ends.

        Returns the task (None when the connection has already ended), so that
        the caller can cancel work that is no longer wanted.
        """
        if self._closed:
            coro.close()
            return None
        task = asyncio.get_running_loop().create_task(coro, name=f"ocpp_hub {self.identity} {name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (err := task.exception()) is not None:
            if isinstance(err, CallFailed):
                _LOGGER.info("Charger %s: %s", self.identity, err)
            else:
                _LOGGER.error("Charger %s: background task failed", self.identity, exc_info=err)

    # ----------------------------------------------------------------- closing
    async def close(self, reason: str = "") -> None:
        """Close the connection and wait until it is torn down."""
        await self.connection.close(1000, reason[:100])
        await self._finished.wait()

    def retire(self) -> None:
        """Stop at once: answer nothing more, fail what is pending, tell the handler.

        The socket itself is closed separately (:meth:`close`); until then
        whatever still arrives on it is read and dropped.
        """
        if self._closed:
            return
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        # The caller waits: tell it (one of the tasks just cancelled may never look).
        if self._pending is not None and not (future := self._pending[2]).done():
            future.set_exception(CallFailed(self._pending[1], FailureReason.OFFLINE))
            future.exception()  # retrieved: no "never retrieved" noise if nobody looks
        if self.handler is not None:
            self.handler.connection_closed()

    async def finish(self) -> None:
        """Retire, and wait until the background tasks have ended (idempotent)."""
        self.retire()
        if self._tasks:
            await asyncio.wait(list(self._tasks))
        self._finished.set()

    async def _teardown(self) -> None:
        await self.finish()

    # ------------------------------------------------------------------ output
    def _log_frame(self, direction: str, text: str, frame: list[Any]) -> str:
        """Keep a frame for diagnostics: secrets redacted in the parsed frame, then cut short."""
        clean, redacted = redact_secrets(frame) if may_hold_secrets(text) else (frame, False)
        if redacted:
            try:
                text = encode(clean)
            except TypeError, ValueError:  # a placeholder for NaN: not JSON
                text = f"<{len(text)} characters with secrets>"
        logged = text[:_LOG_FRAME_CHARS]
        self.frames.append((direction, logged))
        return logged

    async def _send(self, frame: list[Any]) -> None:
        text = encode(frame)
        self._log_frame("out", text, frame)
        await self._write(text)

    async def _write(self, text: str) -> None:
        try:
            await self.connection.send(text)
        except ConnectionClosed:
            _LOGGER.debug("Charger %s: connection closed while sending", self.identity)


def _address(connection: ServerConnection) -> str | None:
    peer = connection.remote_address
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return None
