"""The responder: accepts each alarm after a while, resolves it later, through the gateway API.

``POST {api}/api/v1/alerts/{terminal_id}/{alert_id}/accept`` then ``…/resolve`` with a
bearer token. Transport errors, 408, 425, 429 and 5xx are retried with backoff; 409
(already in that state) counts as done; any other 4xx is given up and counted.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from device_sim.terminals.backoff import RetrySchedule
from device_sim.terminals.timers import Timers

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 425, 429})
#: Kinds that need no responder.
NOT_ANSWERED = frozenset({"cancel", "test"})
#: Calls waiting for a worker; beyond that they wait in the timers a little longer.
QUEUE_SIZE = 1000


class Action(enum.StrEnum):
    """What the responder tells the gateway."""

    ACCEPT = "accept"
    RESOLVE = "resolve"


class Outcome(enum.StrEnum):
    """How one call ended."""

    DONE = "done"
    CONFLICT = "conflict"
    RETRY = "retry"
    REJECTED = "rejected"


def classify(status: int) -> Outcome:
    """The outcome of an HTTP status."""
    if 200 <= status < 300:
        return Outcome.DONE
    if status == 409:
        return Outcome.CONFLICT
    if status in RETRY_STATUSES or status >= 500:
        return Outcome.RETRY
    return Outcome.REJECTED


@dataclass(frozen=True, slots=True)
class Call:
    """One call to make (``attempt`` counts retries)."""

    terminal_id: str
    alert_id: str
    action: Action
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class ResponderOptions:
    """Who answers and how long they take; 0 turns a step off."""

    name: str = "District Command Center"
    accept_after_s: float = 0.0
    resolve_after_s: float = 0.0
    eta_s: int = 600


@dataclass(slots=True)
class ResponderStats:
    """Counts of calls by outcome."""

    accepted: int = 0
    resolved: int = 0
    conflicts: int = 0
    retries: int = 0
    rejected: int = 0
    skipped: int = 0


class Responder:
    """Schedules and makes accept/resolve calls; run :meth:`schedule` once, :meth:`work` N times."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        api: str,
        token: str,
        options: ResponderOptions,
        retry: RetrySchedule,
        clock: Callable[[], float] = time.time,
        on_settled: Callable[[], None] = lambda: None,
    ) -> None:
        self._http = http
        self._on_settled = on_settled
        self._api = api.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}
        self._options = options
        self._retry = retry
        self._clock = clock
        self._timers: Timers[Call] = Timers()
        self._queue: asyncio.Queue[Call] = asyncio.Queue(QUEUE_SIZE)
        self.stats = ResponderStats()

    @property
    def enabled(self) -> bool:
        """True when accepting or resolving is on."""
        return self._options.accept_after_s > 0 or self._options.resolve_after_s > 0

    @property
    def pending(self) -> int:
        """Calls scheduled or queued."""
        return len(self._timers) + self._queue.qsize()

    def on_alert(self, terminal_id: str, alert_id: str, kind: object, now: float) -> None:
        """A new alert arrived: schedule its accept (or, with accepting off, its resolve)."""
        if not self.enabled:
            return
        if kind in NOT_ANSWERED:
            self.stats.skipped += 1
            return
        if self._options.accept_after_s > 0:
            self._timers.add(
                now + self._options.accept_after_s, Call(terminal_id, alert_id, Action.ACCEPT)
            )
        else:
            self._timers.add(
                now + self._options.resolve_after_s, Call(terminal_id, alert_id, Action.RESOLVE)
            )

    async def schedule(self, tick_s: float = 0.1) -> None:
        """Hand due calls to the workers, forever."""
        while True:
            for call in self._timers.pop_due(self._clock(), limit=QUEUE_SIZE - self._queue.qsize()):
                self._queue.put_nowait(call)
            await asyncio.sleep(tick_s)

    async def work(self) -> None:
        """Make queued calls, forever."""
        while True:
            call = await self._queue.get()
            outcome = await self._call(call)
            self._settle(call, outcome, self._clock())
            self._on_settled()

    async def _call(self, call: Call) -> Outcome:
        alert = f"{quote(call.terminal_id, safe='')}/{quote(call.alert_id, safe='')}"
        url = f"{self._api}/api/v1/alerts/{alert}/{call.action}"
        try:
            response = await self._http.post(url, json=self._body(call), headers=self._headers)
        except httpx.HTTPError as exc:
            log.info("%s %s/%s: %s", call.action, call.terminal_id, call.alert_id, exc)
            return Outcome.RETRY
        outcome = classify(response.status_code)
        if outcome is not Outcome.DONE:
            log.info(
                "%s %s/%s: HTTP %d",
                call.action,
                call.terminal_id,
                call.alert_id,
                response.status_code,
            )
        return outcome

    def _body(self, call: Call) -> dict[str, Any]:
        name = self._options.name
        if call.action is Action.ACCEPT:
            return {"by": name, "eta_s": self._options.eta_s, "note": f"{name}: help is on the way"}
        return {"by": name, "note": f"{name}: resolved"}

    def _settle(self, call: Call, outcome: Outcome, now: float) -> None:
        if outcome is Outcome.RETRY:
            self.stats.retries += 1
            retry = Call(call.terminal_id, call.alert_id, call.action, call.attempt + 1)
            self._timers.add(now + self._retry.delay(call.attempt), retry)
            return
        if outcome is Outcome.REJECTED:
            self.stats.rejected += 1
            return
        if outcome is Outcome.CONFLICT:
            self.stats.conflicts += 1
        if call.action is Action.RESOLVE:
            self.stats.resolved += 1
            return
        self.stats.accepted += 1
        if self._options.resolve_after_s > 0:
            resolve = Call(call.terminal_id, call.alert_id, Action.RESOLVE)
            self._timers.add(now + self._options.resolve_after_s, resolve)
