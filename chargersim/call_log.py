"""The calls the central system sent a charger, for tests to inspect and wait for."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

__all__ = ["CallLog"]

JSONDict = dict[str, Any]


class CallLog:
    """Every CSMS-initiated call as it arrived, and waiters for the next ones."""

    def __init__(self) -> None:
        #: (action, payload) of every call, in arrival order.
        self.received: list[tuple[str, JSONDict]] = []
        self.counts: Counter[str] = Counter()
        self._consumed: list[bool] = []
        self._waiters: list[tuple[str, asyncio.Future[JSONDict]]] = []

    def record(self, action: str, payload: JSONDict) -> None:
        """A call arrived (before it is answered): hand it to its oldest waiter."""
        self.received.append((action, payload))
        self.counts[action] += 1
        for index, (wanted, future) in enumerate(self._waiters):
            if wanted == action and not future.done():
                future.set_result(payload)
                del self._waiters[index]
                self._consumed.append(True)
                return
        self._consumed.append(False)

    async def wait_for(self, action: str, timeout: float) -> JSONDict:
        """The payload of the oldest not yet waited-for call ``action``, or the next one."""
        for index, (name, payload) in enumerate(self.received):
            if name == action and not self._consumed[index]:
                self._consumed[index] = True
                return payload
        future: asyncio.Future[JSONDict] = asyncio.get_running_loop().create_future()
        entry = (action, future)
        self._waiters.append(entry)
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            if entry in self._waiters:
                self._waiters.remove(entry)
