"""The command center's telephony: it plays the responders the gateway calls.

For each ``alert.dispatch`` event (one call to one responder) it decides how that
responder behaves — accept after a delay, decline after a delay, or never answer — and
answers through the gateway's ``POST /api/v1/responders/answer`` with the call's token.
The behaviour comes from a plan by call number (``decline,never,accept:2`` — the first
call of an alarm declines, the second is never answered, the third accepts after 2 s),
else from a seeded random mix. Transport errors, 408, 425, 429 and 5xx are retried with
backoff; 409 (the call no longer waits) and 404 are counted and given up.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from device_sim.command_center.responder import Outcome, classify
from device_sim.terminals.backoff import RetrySchedule
from device_sim.terminals.timers import Timers

log = logging.getLogger(__name__)

ANSWER_PATH = "/api/v1/responders/answer"
QUEUE_SIZE = 1000


class Reply(enum.StrEnum):
    """What a simulated responder does with a call."""

    ACCEPT = "accept"
    DECLINE = "decline"
    NEVER = "never"


@dataclass(frozen=True, slots=True)
class Behaviour:
    """One responder's reply and how long they take to give it."""

    reply: Reply
    delay_s: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Behaviour:
        """``accept``, ``decline:2.5``, ``never``; ``ValueError`` naming the bad part."""
        name, _, delay = text.strip().partition(":")
        try:
            reply = Reply(name.strip().lower())
        except ValueError:
            raise ValueError(f"{text!r}: expected accept, decline or never") from None
        try:
            seconds = float(delay) if delay else 1.0
        except ValueError:
            raise ValueError(f"{text!r}: the delay must be a number of seconds") from None
        if not 0 <= seconds <= 3600:
            raise ValueError(f"{text!r}: the delay must be 0..3600 s")
        return cls(reply, seconds)


def parse_plan(text: str) -> tuple[Behaviour, ...]:
    """``decline,never,accept:2`` → one behaviour per call number (1, 2, 3 …)."""
    return tuple(Behaviour.parse(part) for part in text.split(",") if part.strip())


def parse_mix(text: str) -> dict[Reply, float]:
    """``accept=0.6,decline=0.2,never=0.2`` → weights (need not sum to 1)."""
    mix: dict[Reply, float] = {}
    for part in (p for p in text.split(",") if p.strip()):
        name, _, weight = part.partition("=")
        try:
            mix[Reply(name.strip().lower())] = float(weight)
        except ValueError:
            raise ValueError(f"{part!r}: expected reply=weight, e.g. accept=0.6") from None
    if any(w < 0 for w in mix.values()) or (mix and sum(mix.values()) <= 0):
        raise ValueError("the weights must be >= 0 and not all 0")
    return mix


@dataclass(frozen=True, slots=True)
class TelephonyOptions:
    """How responders behave: a plan by call number, else the mix (off when both empty)."""

    plan: tuple[Behaviour, ...] = ()
    mix: Mapping[Reply, float] = field(default_factory=dict)
    delay_s: tuple[float, float] = (2.0, 10.0)
    eta_s: int = 600

    @property
    def enabled(self) -> bool:
        return bool(self.plan or self.mix)

    def __post_init__(self) -> None:
        low, high = self.delay_s
        if not 0 <= low <= high <= 3600:
            raise ValueError("answer_delay: expected LOW-HIGH seconds, 0 <= LOW <= HIGH <= 3600")
        if not 0 <= self.eta_s <= 86_400:
            raise ValueError("answer_eta: must be 0..86400 s")


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer to give (``attempt`` counts retries of the HTTP call)."""

    terminal_id: str
    alert_id: str
    call: int
    responder: str
    token: str
    reply: Reply
    attempt: int = 0


@dataclass(slots=True)
class TelephonyStats:
    """Calls by what happened to them."""

    calls: int = 0
    accepted: int = 0
    declined: int = 0
    unanswered: int = 0
    refused: int = 0
    retries: int = 0
    stood_down: int = 0
    confirmed: int = 0


class Telephony:
    """Answers the gateway's calls to responders.

    Run :meth:`schedule` once and :meth:`work` N times."""

    def __init__(
        self, http: httpx.AsyncClient, api: str, options: TelephonyOptions, retry: RetrySchedule,
        clock: Callable[[], float] = time.time, seed: int | None = None,
        on_settled: Callable[[], None] = lambda: None,
    ) -> None:  # fmt: skip
        self._http = http
        self._api = api.rstrip("/")
        self._options = options
        self._retry = retry
        self._clock = clock
        self._rng = random.Random(seed)
        self._on_settled = on_settled
        self._timers: Timers[Answer] = Timers()
        self._queue: asyncio.Queue[Answer] = asyncio.Queue(QUEUE_SIZE)
        self.stats = TelephonyStats()
        #: Every call as it went, for ``GET /records`` and tests.
        self.calls: list[dict[str, Any]] = []

    @property
    def enabled(self) -> bool:
        return self._options.enabled

    def behaviour(self, call: int) -> Behaviour:
        """How the responder of the alarm's ``call``-th call behaves."""
        plan = self._options.plan
        if call <= len(plan):
            return plan[call - 1]
        if not self._options.mix:
            return plan[-1] if plan else Behaviour(Reply.NEVER)
        replies, weights = zip(*self._options.mix.items(), strict=True)
        reply = self._rng.choices(replies, weights)[0]
        return Behaviour(reply, self._rng.uniform(*self._options.delay_s))

    def on_event(self, kind: str, data: Mapping[str, Any], now: float) -> None:
        """Look at every event: calls are answered, stand-downs and confirmations counted."""
        if kind == "alert.dispatch.cancelled":
            self.stats.stood_down += 1
        elif kind == "alert.dispatch.accepted":
            self.stats.confirmed += 1
        elif kind == "alert.dispatch" and self.enabled:
            self._on_call(data, now)

    def _on_call(self, data: Mapping[str, Any], now: float) -> None:
        try:
            answer = data["answer"]["token"]
            call, name = int(data["attempt"]), str(data["responder"]["name"])
            terminal_id, alert_id = str(data["terminal_id"]), str(data["alert_id"])
        except (KeyError, TypeError, ValueError):
            log.warning("alert.dispatch without a usable token or responder: %s", data)
            return
        self.stats.calls += 1
        behaviour = self.behaviour(call)
        entry = {"terminal_id": terminal_id, "alert_id": alert_id, "call": call,
                 "responder": name, "reply": behaviour.reply.value, "result": None}  # fmt: skip
        self.calls.append(entry)
        if behaviour.reply is Reply.NEVER:
            self.stats.unanswered += 1
            self._record(terminal_id, alert_id, call, "not answered")
            return
        item = Answer(terminal_id, alert_id, call, name, answer, behaviour.reply)
        self._timers.add(now + behaviour.delay_s, item)

    def _record(self, terminal_id: str, alert_id: str, call: int, result: str) -> None:
        for entry in reversed(self.calls):
            if (entry["terminal_id"], entry["alert_id"], entry["call"]) == (
                terminal_id,
                alert_id,
                call,
            ):
                entry["result"] = result
                return

    async def schedule(self, tick_s: float = 0.05) -> None:
        """Hand due answers to the workers, forever."""
        while True:
            free = QUEUE_SIZE - self._queue.qsize()
            for item in self._timers.pop_due(self._clock(), limit=free):
                self._queue.put_nowait(item)
            await asyncio.sleep(tick_s)

    async def work(self) -> None:
        """Give queued answers, forever."""
        while True:
            item = await self._queue.get()
            self._settle(item, await self._answer(item), self._clock())
            self._on_settled()

    async def _answer(self, item: Answer) -> Outcome:
        body: dict[str, Any] = {"token": item.token, "answer": item.reply.value}
        if item.reply is Reply.ACCEPT:
            body["eta_s"] = self._options.eta_s
        try:
            response = await self._http.post(self._api + ANSWER_PATH, json=body)
        except httpx.HTTPError as exc:
            log.info("answer %s/%s call %d: %s", item.terminal_id, item.alert_id, item.call, exc)
            return Outcome.RETRY
        return classify(response.status_code)

    def _settle(self, item: Answer, outcome: Outcome, now: float) -> None:
        if outcome is Outcome.RETRY:
            self.stats.retries += 1
            retry = Answer(item.terminal_id, item.alert_id, item.call, item.responder, item.token,
                           item.reply, item.attempt + 1)  # fmt: skip
            self._timers.add(now + self._retry.delay(item.attempt), retry)
            return
        if outcome is not Outcome.DONE:
            self.stats.refused += 1
            self._record(item.terminal_id, item.alert_id, item.call, "refused")
            return
        accepted = item.reply is Reply.ACCEPT
        if accepted:
            self.stats.accepted += 1
        else:
            self.stats.declined += 1
        result = "accepted" if accepted else "declined"
        self._record(item.terminal_id, item.alert_id, item.call, result)
