"""The command center's telephony plays responders: a plan by call number, a seeded mix,
retries on 5xx, and a 409 counted as refused (through httpx's MockTransport)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from device_sim.command_center.telephony import (
    Behaviour,
    Reply,
    Telephony,
    TelephonyOptions,
    parse_mix,
    parse_plan,
)
from device_sim.terminals.backoff import FixedDelays


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def call(attempt: int, token: str = "tok-123456789012345") -> dict[str, Any]:
    return {"terminal_id": "T1", "alert_id": "e1", "attempt": attempt,
            "responder": {"name": f"r{attempt}", "phone": "110", "role": "relative"},
            "answer": {"token": token, "path": "/api/v1/responders/answer"}}  # fmt: skip


def phone(handler: httpx.MockTransport, options: TelephonyOptions, clock: Clock) -> Telephony:
    http = httpx.AsyncClient(transport=handler)
    return Telephony(http, "http://gw", options, FixedDelays([2.0]), clock, seed=1)


def test_plans_and_mixes_parse_and_bad_ones_are_named() -> None:
    assert parse_plan("decline, never,accept:2.5") == (
        Behaviour(Reply.DECLINE, 1.0), Behaviour(Reply.NEVER, 1.0), Behaviour(Reply.ACCEPT, 2.5),
    )  # fmt: skip
    assert parse_mix("accept=0.6,never=0.4") == {Reply.ACCEPT: 0.6, Reply.NEVER: 0.4}
    for bad in ("maybe", "accept:soon", "accept:-1"):
        with pytest.raises(ValueError, match=bad.split(":")[0]):
            parse_plan(bad)
    with pytest.raises(ValueError, match="reply=weight"):
        parse_mix("accept")
    with pytest.raises(ValueError, match="answer_delay"):
        TelephonyOptions(delay_s=(5.0, 1.0))


async def test_decline_never_accept_in_call_order() -> None:
    sent: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"applied": True})

    clock = Clock()
    options = TelephonyOptions(plan=parse_plan("decline:1,never,accept:3"), eta_s=480)
    t = phone(httpx.MockTransport(handle), options, clock)
    for n in (1, 2, 3):
        t.on_event("alert.dispatch", call(n, f"token-{n}-0123456789"), clock.now)
    t.on_event("alert.dispatch.cancelled", {}, clock.now)
    for item in t._timers.pop_due(104.0):
        t._settle(item, await t._answer(item), 104.0)
    assert sent == [
        {"token": "token-1-0123456789", "answer": "decline"},
        {"token": "token-3-0123456789", "answer": "accept", "eta_s": 480},
    ]
    assert [c["result"] for c in t.calls] == ["declined", "not answered", "accepted"]
    s = t.stats
    assert (s.calls, s.declined, s.unanswered, s.accepted, s.stood_down) == (3, 1, 1, 1, 1)


async def test_5xx_is_retried_and_409_is_counted_as_refused() -> None:
    statuses = iter([503, 409])
    clock = Clock()
    t = phone(httpx.MockTransport(lambda _: httpx.Response(next(statuses))),
              TelephonyOptions(plan=parse_plan("accept:0")), clock)  # fmt: skip
    t.on_event("alert.dispatch", call(1), clock.now)
    [item] = t._timers.pop_due(clock.now)
    t._settle(item, await t._answer(item), clock.now)
    [retry] = t._timers.pop_due(clock.now + 2)
    assert retry.attempt == 1
    t._settle(retry, await t._answer(retry), clock.now + 2)
    assert (t.stats.retries, t.stats.refused, t.stats.accepted) == (1, 1, 0)


def test_calls_beyond_the_plan_follow_the_seeded_mix() -> None:
    options = TelephonyOptions(plan=parse_plan("never"), mix={Reply.ACCEPT: 1.0}, delay_s=(2, 4))
    t = phone(httpx.MockTransport(lambda _: httpx.Response(200)), options, Clock())
    assert t.behaviour(1).reply is Reply.NEVER
    later = t.behaviour(2)
    assert later.reply is Reply.ACCEPT
    assert 2 <= later.delay_s <= 4


def test_off_without_a_plan_or_mix_and_bad_events_are_ignored() -> None:
    t = phone(httpx.MockTransport(lambda _: httpx.Response(200)), TelephonyOptions(), Clock())
    t.on_event("alert.dispatch", call(1), 100.0)
    assert t.stats.calls == 0
    on = phone(httpx.MockTransport(lambda _: httpx.Response(200)),
               TelephonyOptions(plan=parse_plan("accept")), Clock())  # fmt: skip
    on.on_event("alert.dispatch", {"attempt": "x"}, 100.0)
    assert on.stats.calls == 0
