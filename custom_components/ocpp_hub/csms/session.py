"""One charger connection: OCPP-J framing, routing, and our calls one at a time.

The receive loop handles frames strictly in order. A CALL is validated against
its schema, handed to the version handler (a plain synchronous function, so the
model and the entities change in the same event-loop turn) and answered exactly
once; anything malformed gets the CALLERROR that OCPP-J 1.6 names and the
connection stays open. Our own calls to the charger go through one lock: at
most one is in flight, the others wait in order, each has a timeout and fails
with a :class:`CallFailed` that says why.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Coroutine
from datetime import UTC, datetime
import itertools
import json
import logging
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.frames import CloseCode

from .errors import CallFailed, FailureReason, OcppError, OcppErrorCode
from .guard import FloodGuard
from .validation import SchemaSet

_LOGGER = logging.getLogger(__name__)

CALL, CALLRESULT, CALLERROR = 2, 3, 4
_MAX_ID_LENGTH = 36  # OCPP-J: a unique id is at most 36 characters
_REPLAY_MEMORY = 8  # answers kept to repeat for a CALL that arrives twice
_LOG_MEMORY = 50  # frames kept for diagnostics
_LOG_FRAME_CHARS = 300  # of each (memory per charger stays small)

# A frame whose message id could not be read is answered with this id.
UNKNOWN_ID = "-1"


class CallHandler(Protocol):
    """What a session needs from the OCPP version layer."""

    actions: frozenset[str]

    def handle_call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer a validated CALL, or raise :class:`OcppError`."""

    def connection_closed(self) -> None:
        """The connection ended (for any reason)."""


class FrameError(Exception):
    """A frame that cannot be handled as a CALL: answered with a CALLERROR."""

    def __init__(self, message_id: str, code: OcppErrorCode, description: str) -> None:
        """Keep what the CALLERROR needs."""
        super().__init__(description)
        self.message_id = message_id
        self.code = code
        self.description = description


def _message_id(frame: list[Any]) -> str | None:
    if len(frame) < 2:
        return None
    value = frame[1]
    if isinstance(value, str) and 0 < len(value) <= _MAX_ID_LENGTH:
        return value
    return None


def decode_frame(text: str | bytes) -> list[Any]:
    """Parse an OCPP-J frame; raise :class:`FrameError` with the code to answer."""
    if isinstance(text, bytes):
        raise FrameError(
            UNKNOWN_ID, OcppErrorCode.FORMATION_VIOLATION, "OCPP-J frames are text, not binary"
        )
    try:
        frame = json.loads(text)
    except ValueError, RecursionError:  # RecursionError: nested ever deeper
        raise FrameError(
            UNKNOWN_ID, OcppErrorCode.FORMATION_VIOLATION, "frame is not valid JSON"
        ) from None
    if not isinstance(frame, list) or not frame:
        raise FrameError(
            UNKNOWN_ID, OcppErrorCode.FORMATION_VIOLATION, "frame is not a non-empty JSON array"
        )
    message_id = _message_id(frame)
    if message_id is None:
        raise FrameError(
            UNKNOWN_ID,
            OcppErrorCode.PROTOCOL_ERROR,
            "message id missing, not a string, or longer than 36 characters",
        )
    kind = frame[0]
    expected = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}.get(kind) if type(kind) is int else None
    if expected is None:
        raise FrameError(message_id, OcppErrorCode.PROTOCOL_ERROR, f"unknown message type {kind!r}")
    if len(frame) != expected:
        raise FrameError(
            message_id,
            OcppErrorCode.PROTOCOL_ERROR,
            f"message type {kind} needs {expected} elements, got {len(frame)}",
        )
    if kind == CALL and not isinstance(frame[2], str):
        raise FrameError(message_id, OcppErrorCode.PROTOCOL_ERROR, "action must be a string")
    return frame


def encode(frame: list[Any]) -> str:
    """Serialise a frame compactly."""
    return json.dumps(frame, separators=(",", ":"))


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
        self._answers: OrderedDict[str, str] = OrderedDict()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False
        self._finished = asyncio.Event()

    @property
    def closed(self) -> bool:
        """True once the connection has ended."""
        return self._closed

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
        if isinstance(message, str):
            self.frames.append(("in", message[:_LOG_FRAME_CHARS]))
        try:
            frame = decode_frame(message)
        except FrameError as err:
            # The description only: the exception would keep the whole frame alive.
            _LOGGER.warning("Charger %s sent a malformed frame: %s", self.identity, err.description)
            await self._send([CALLERROR, err.message_id, err.code.value, err.description, {}])
            return
        kind, message_id = frame[0], frame[1]
        if kind == CALL:
            await self._answer_call(message_id, frame[2], frame[3])
        else:
            self._resolve(frame)

    async def _answer_call(self, message_id: str, action: str, payload: Any) -> None:
        repeated = self._answers.get(message_id)
        if repeated is not None:
            # The same CALL again (a retry): same answer, nothing applied twice.
            await self._send_text(repeated)
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
                    code, f"action {action[:40]!r} is not handled by this central system"
                )
            self.schemas.validate_request(action, payload)
            result = self.handler.handle_call(action, payload)
            reply: list[Any] = [CALLRESULT, message_id, result]
        except OcppError as err:
            _LOGGER.info("Charger %s: %s answered with %s", self.identity, action[:40], str(err))
            reply = [CALLERROR, message_id, err.code.value, err.description, {}]
        except Exception:
            _LOGGER.exception("Charger %s: error handling %s", self.identity, action)
            reply = [
                CALLERROR,
                message_id,
                OcppErrorCode.INTERNAL_ERROR.value,
                "internal error",
                {},
            ]
        text = encode(reply)
        self._answers[message_id] = text
        if len(self._answers) > _REPLAY_MEMORY:
            self._answers.popitem(last=False)
        await self._send_text(text)

    def _resolve(self, frame: list[Any]) -> None:
        pending = self._pending
        if pending is None or pending[0] != frame[1] or pending[2].done():
            _LOGGER.info(
                "Charger %s answered message %r that is not awaiting an answer; ignored",
                self.identity,
                frame[1],
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
        code = str(frame[2])
        reason = (
            FailureReason.NOT_SUPPORTED
            if code in (OcppErrorCode.NOT_SUPPORTED, OcppErrorCode.NOT_IMPLEMENTED)
            else FailureReason.CALL_ERROR
        )
        future.set_exception(CallFailed(action, reason, f"{code}: {str(frame[3])[:100]}"))

    # ----------------------------------------------------------------- calling
    async def call(
        self, action: str, payload: dict[str, Any], *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Send a CALL and return the charger's answer payload.

        Waits its turn behind calls already in flight. Raises :class:`CallFailed`
        (offline, timeout, CALLERROR, invalid answer).
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
                await self._send([CALL, message_id, action, payload])
                async with asyncio.timeout(timeout or self.call_timeout):
                    return await future
            except TimeoutError:
                raise CallFailed(action, FailureReason.TIMEOUT) from None
            except ConnectionClosed:
                raise CallFailed(action, FailureReason.OFFLINE) from None
            finally:
                self._pending = None
                if not future.done():
                    future.cancel()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        """Run ``coro`` alongside the connection; it is cancelled when the connection ends."""
        if self._closed:
            coro.close()
            return
        task = asyncio.get_running_loop().create_task(coro, name=f"ocpp_hub {self.identity} {name}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

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
    async def _send(self, frame: list[Any]) -> None:
        await self._send_text(encode(frame))

    async def _send_text(self, text: str) -> None:
        self.frames.append(("out", text[:_LOG_FRAME_CHARS]))
        try:
            await self.connection.send(text)
        except ConnectionClosed:
            _LOGGER.debug("Charger %s: connection closed while sending", self.identity)


def _address(connection: ServerConnection) -> str | None:
    peer = connection.remote_address
    if isinstance(peer, tuple) and peer:
        return str(peer[0])
    return None
