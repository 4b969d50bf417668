"""The database's write lock: one holder at a time, urgent waiters first.

An ``asyncio.Lock`` hands the write connection over in arrival order, so an alarm's
transaction waited behind every confirmation, claim and telemetry batch that asked
before it. Here an *urgent* waiter (an intake batch of alarms, the alarm lane's claim)
is handed the lock as soon as its holder lets go, ahead of everyone else; waiters of
the same kind keep their order. Written by hand: asyncio has no priority lock.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class WriteLock:
    """A mutex for coroutines of one event loop, with two classes of waiters."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    @property
    def locked(self) -> bool:
        return self._held

    @property
    def waiting(self) -> int:
        return len(self._urgent) + len(self._normal)

    @asynccontextmanager
    async def hold(self, urgent: bool = False) -> AsyncIterator[None]:
        await self.acquire(urgent)
        try:
            yield
        finally:
            self.release()

    async def acquire(self, urgent: bool = False) -> None:
        if not self._held and not self._urgent and not self._normal:
            self._held = True
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        (self._urgent if urgent else self._normal).append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed the lock just as we were cancelled: pass it on
            else:
                queue = self._urgent if urgent else self._normal
                if waiter in queue:
                    queue.remove(waiter)
            raise

    def release(self) -> None:
        """Hand the lock to the next waiter (urgent ones first), or free it."""
        if not self._held:
            raise RuntimeError("release of a write lock that is not held")
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # stays held: now by that waiter
                    return
        self._held = False
