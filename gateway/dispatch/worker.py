"""The Dispatcher: starts the call sequence of every new emergency, moves on when a
responder's time is up, and ends sequences whose alarm was settled another way.

It holds no state of its own: everything it acts on is read from the database each
sweep, so a restart (or ``kill -9``) continues every sequence where it was, and several
gateway processes may sweep one file (each step re-reads the state inside its commit).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence

from gateway.core import dispatch as core
from gateway.dispatch import metrics
from gateway.dispatch.desk import DispatchDesk
from gateway.errors import StoreError
from gateway.store.dispatch import Applied

log = logging.getLogger(__name__)

#: Alarms started per transaction, and rows looked at per sweep.
START_CHUNK = 20
SWEEP_LIMIT = 500
#: Shortest pause between sweeps: wake-ups come with every stored batch of alarms.
MIN_GAP_S = 0.1


class Dispatcher:
    """``await run()`` sweeps every ``interval_s`` (sooner when woken) until cancelled."""

    def __init__(
        self, desk: DispatchDesk, kinds: Sequence[str], interval_s: float, start_window_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self._desk = desk
        self._store = desk.sequences
        self._kinds = list(kinds)
        self._interval = interval_s
        self._window = start_window_s
        self._clock = clock
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """New alarms may be waiting: sweep now."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.sweep()
            except (StoreError, sqlite3.Error) as exc:  # the next sweep retries
                metrics.SWEEP_ERRORS.inc()
                log.warning("dispatch sweep failed: %s", exc)
            await asyncio.sleep(min(MIN_GAP_S, self._interval))
            try:
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def sweep(self) -> list[Applied]:
        """One pass: start, expire, close. Returns what changed."""
        done = await self._start_new()
        done += await self._expire()
        done += await self._close_settled()
        for applied in done:
            await self._desk.after(applied)
        return done

    async def _start_new(self) -> list[Applied]:
        now = self._clock()
        keys = await self._store.unstarted(self._kinds, now - self._window, SWEEP_LIMIT)
        started: list[Applied] = []
        for begin in range(0, len(keys), START_CHUNK):
            started += await self._store.start(keys[begin : begin + START_CHUNK], self._clock())
        for applied in started:
            metrics.SEQUENCES.inc()
            if applied.state is not None and applied.state.status is core.Status.EXHAUSTED:
                log.info("alarm %s/%s: no responders on record, escalated", *(applied.key or ()))
        return started

    async def _expire(self) -> list[Applied]:
        done = []
        for key in await self._store.due(self._clock(), SWEEP_LIMIT):
            applied = await self._store.apply(*key, core.Tick(), self._clock())
            if applied.refused is None:
                done.append(applied)
        return done

    async def _close_settled(self) -> list[Applied]:
        done = []
        for key in await self._store.settled(SWEEP_LIMIT):
            done.append(await self._store.apply(*key, core.Closed("settled"), self._clock()))
        return done
