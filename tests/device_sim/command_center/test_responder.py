"""Accept/resolve calls through httpx's MockTransport (the transport is the only seam)."""

from __future__ import annotations

import json

import httpx
import pytest

from device_sim.command_center.responder import (
    Action,
    Call,
    Outcome,
    Responder,
    ResponderOptions,
    classify,
)
from device_sim.terminals.backoff import FixedDelays


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DONE),
        (204, Outcome.DONE),
        (409, Outcome.CONFLICT),
        (429, Outcome.RETRY),
        (503, Outcome.RETRY),
        (404, Outcome.REJECTED),
        (401, Outcome.REJECTED),
    ],
)
def test_classify(status: int, outcome: Outcome) -> None:
    assert classify(status) is outcome


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def responder(
    handler: httpx.MockTransport,
    clock: Clock,
    accept_after_s: float = 0.0,
    resolve_after_s: float = 0.0,
) -> Responder:
    options = ResponderOptions("Desk 7", accept_after_s, resolve_after_s)
    http = httpx.AsyncClient(transport=handler)
    return Responder(http, "http://gw/", "tok", options, FixedDelays([5.0]), clock)


async def test_accept_then_resolve_with_retry() -> None:
    seen: list[httpx.Request] = []
    statuses = iter([503, 200, 200])

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(next(statuses))

    clock = Clock()
    r = responder(httpx.MockTransport(handle), clock, accept_after_s=1.0, resolve_after_s=2.0)
    r.on_alert("t 1", "a1", "emergency", clock.now)
    r.on_alert("t1", "t-test", "test", clock.now)
    assert r.stats.skipped == 1
    [call] = r._timers.pop_due(101.0)
    assert call == Call("t 1", "a1", Action.ACCEPT)
    r._settle(call, await r._call(call), 101.0)  # 503: retried 5 s later
    [retry] = r._timers.pop_due(106.0)
    r._settle(retry, await r._call(retry), 106.0)  # 200: resolve 2 s later
    [resolve] = r._timers.pop_due(108.0)
    r._settle(resolve, await r._call(resolve), 108.0)
    assert [str(q.url) for q in seen] == [
        "http://gw/api/v1/alerts/t%201/a1/accept",
        "http://gw/api/v1/alerts/t%201/a1/accept",
        "http://gw/api/v1/alerts/t%201/a1/resolve",
    ]
    assert seen[0].headers["authorization"] == "Bearer tok"
    assert json.loads(seen[0].content) == {
        "by": "Desk 7",
        "eta_s": 600,
        "note": "Desk 7: help is on the way",
    }
    assert (r.stats.accepted, r.stats.resolved, r.stats.retries) == (1, 1, 1)
    assert r.pending == 0


async def test_transport_errors_retry_and_4xx_give_up() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    clock = Clock()
    r = responder(httpx.MockTransport(refuse), clock, accept_after_s=1.0)
    assert await r._call(Call("t1", "a1", Action.ACCEPT)) is Outcome.RETRY
    r2 = responder(httpx.MockTransport(lambda _: httpx.Response(404)), clock, resolve_after_s=1.0)
    r2.on_alert("t1", "a1", "meal", clock.now)
    [call] = r2._timers.pop_due(101.0)
    assert call.action is Action.RESOLVE  # accepting is off
    r2._settle(call, await r2._call(call), 101.0)
    assert r2.stats.rejected == 1
    assert r2.pending == 0
