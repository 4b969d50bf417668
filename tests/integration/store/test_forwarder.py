"""Forwarder + WebhookSink over httpx.MockTransport, on a real outbox, with a fake clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from firmware_protocol.messages import Health, Stage, Vitals
from gateway.core.backoff import Backoff
from gateway.core.events import Priority
from gateway.forward.forwarder import Forwarder, Lane, lanes
from gateway.forward.webhook import WebhookSink
from gateway.store.db import Database
from gateway.store.outbox import Outbox
from tests.integration.store.helpers import (
    T0,
    FakeAcks,
    FakeClock,
    add_events,
    alert,
    event,
    rows,
    sample,
    store,
)

pytestmark = pytest.mark.integration

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
URL = "http://command-center.test/webhook"
BACKOFF = Backoff(base=100.0, cap=100.0)  # every retry waits 50..100 s of fake time
ONE_AT_A_TIME = (Lane("general", 1, 1),)
Check = Callable[[], Awaitable[bool]]
Rows = list[dict[str, Any]]


class Receiver:
    """The command center: verifies each POST as a receiver would (the standardwebhooks
    library), records the events, answers ``status`` — or ``by_event[id]`` when the
    request carries that event."""

    def __init__(self, status: int = 200, by_event: dict[str, int] | None = None) -> None:
        self.status = status
        self.by_event = by_event or {}
        self.requests: list[httpx.Request] = []
        self.batches: list[list[str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        payload = Webhook(SECRET).verify(request.content, dict(request.headers))
        events = payload["events"] if payload.get("type") == "batch" else [payload]
        ids = [e["event_id"] for e in events]
        self.batches.append(ids)
        status = max([self.by_event.get(i, 0) for i in ids] or [0]) or self.status
        return httpx.Response(status)

    def ids(self) -> list[str]:
        return [i for batch in self.batches for i in batch]


@asynccontextmanager
async def forwarding(
    db: Database, receiver: Callable[[httpx.Request], Any], clock: FakeClock, *,
    plan: Sequence[Lane] = ONE_AT_A_TIME, retry_for_s: float = 3600.0,
    acks: FakeAcks | None = None, batch: bool = True,
) -> AsyncIterator[Forwarder]:  # fmt: skip
    """A running forwarder to the receiver; stopped when the block ends."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        forwarder = Forwarder(
            WebhookSink(URL, SECRET, client, batch=batch), Outbox(db), acks=acks or FakeAcks(),
            confirms_terminals=True, lease_s=30.0, retry_for_s=retry_for_s, backoff=BACKOFF,
            lanes=plan, clock=clock,
        )  # fmt: skip
        async with asyncio.TaskGroup() as tg:
            task = tg.create_task(forwarder.run(), name="forwarder")
            try:
                yield forwarder
            finally:
                task.cancel()


async def outbox_rows(db: Database) -> list[dict[str, Any]]:
    return await rows(db, "SELECT * FROM outbox ORDER BY event_id")


async def until(check: Check, forwarder: Forwarder) -> None:
    """Wait (bounded) until ``check()`` holds, nudging the forwarder to look again."""
    async with asyncio.timeout(10):
        while not await check():
            forwarder.wake()
            await asyncio.sleep(0.001)


def outbox_is(db: Database, predicate: Callable[[Rows], bool]) -> Check:
    async def check() -> bool:
        return predicate(await outbox_rows(db))

    return check


def empty(db: Database) -> Check:
    """Nothing left to deliver: no outbox rows, no report past a feed's cursor."""
    rows_gone = outbox_is(db, lambda r: r == [])

    async def check() -> bool:
        return await rows_gone() and not await Outbox(db).backlog()

    return check


def handed(acks: FakeAcks, n: int) -> Check:
    async def check() -> bool:
        return len(acks.updates) >= n

    return check


async def test_event_is_delivered_signed_once_and_leaves_the_outbox(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"), now=T0)
    [stored] = await rows(db, "SELECT body FROM events")
    receiver, acks = Receiver(200), FakeAcks()
    ok_before = sample("gateway_deliveries_total", sink="webhook", outcome="ok")

    async with forwarding(db, receiver, clock, acks=acks) as fw:
        await until(empty(db), fw)
        # the acks are handed on just after the commit that emptied the outbox
        await until(handed(acks, 1), fw)

    [request] = receiver.requests
    payload = Webhook(SECRET).verify(request.content, dict(request.headers))
    assert payload["events"] == [json.loads(stored["body"])]
    assert acks.stages() == [("T0001", "b1", Stage.DELIVERED)]
    [row] = await rows(db, "SELECT stage FROM alerts")
    assert row["stage"] == "delivered"
    assert sample("gateway_deliveries_total", sink="webhook", outcome="ok") - ok_before == 1


async def test_many_events_travel_in_few_requests(db: Database, clock: FakeClock) -> None:
    reports = [Health("T0002", f"r{n}", T0, Vitals(heart_rate_bpm=70)) for n in range(120)]
    await store(db, *reports, alert("b1"), now=T0)
    receiver = Receiver(200)

    plan = lanes(workers=2, alarm_workers=1, batch_max=50, linger_s=0.0)
    async with forwarding(db, receiver, clock, plan=plan) as fw:
        await until(empty(db), fw)

    assert sorted(receiver.ids()) == sorted(
        ["alert:T0001:b1"] + [f"health:T0002:r{n}" for n in range(120)]
    )
    assert len(receiver.requests) <= 4  # 121 events, at most 50 a request
    assert max(len(b) for b in receiver.batches) == 50


async def test_event_format_sends_one_request_per_event(db: Database, clock: FakeClock) -> None:
    await store(db, alert("b1"), alert("b2"), now=T0)
    receiver = Receiver(200)

    async with forwarding(db, receiver, clock, batch=False) as fw:
        await until(empty(db), fw)

    assert [r.headers["webhook-id"] for r in receiver.requests] == [
        "alert:T0001:b1",
        "alert:T0001:b2",
    ]


async def test_server_error_is_retried_with_backoff_and_delivered_later(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"), now=T0)
    receiver, acks = Receiver(503), FakeAcks()

    async with forwarding(db, receiver, clock, acks=acks) as fw:
        await until(outbox_is(db, lambda r: r[0]["attempts"] == 1), fw)
        [row] = await outbox_rows(db)
        assert T0 + 50 <= float(row["next_attempt_at"]) <= T0 + 100
        assert row["last_error"] == "HTTP 503"
        assert acks.updates == []

        receiver.status = 200
        clock.advance(100)
        await until(empty(db), fw)
        # the acks are handed on just after the commit that emptied the outbox
        await until(handed(acks, 1), fw)

    assert receiver.ids() == ["alert:T0001:b1"] * 2
    assert acks.stages() == [("T0001", "b1", Stage.DELIVERED)]
    # each attempt is signed afresh and verified (by the Receiver)
    assert len({r.headers["webhook-signature"] for r in receiver.requests}) == 2


async def test_refused_payload_is_dead_lettered_without_retry(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"), now=T0)
    receiver = Receiver(400)

    async with forwarding(db, receiver, clock) as fw:
        await until(outbox_is(db, lambda r: r[0]["dead"] == 1), fw)

    [row] = await outbox_rows(db)
    assert (row["last_error"], row["attempts"]) == ("HTTP 400", 1)
    assert await Outbox(db).next_due("webhook") is None  # never tried again
    assert len(receiver.requests) == 1


async def test_one_refused_event_does_not_sink_its_batch(db: Database, clock: FakeClock) -> None:
    await store(db, alert("b1"), alert("b2"), alert("b3"), now=T0)
    receiver, acks = Receiver(200, by_event={"alert:T0001:b2": 422}), FakeAcks()

    plan = (Lane("general", 1, 10),)
    async with forwarding(db, receiver, clock, plan=plan, acks=acks) as fw:
        await until(outbox_is(db, lambda r: [x["dead"] for x in r] == [1]), fw)
        # the acks are handed on just after the commit that emptied the outbox
        await until(handed(acks, 2), fw)

    [dead] = await outbox_rows(db)
    assert (dead["event_id"], dead["last_error"]) == ("alert:T0001:b2", "HTTP 422")
    # the batch was refused whole, then each of its events was sent alone
    assert receiver.batches[0] == ["alert:T0001:b1", "alert:T0001:b2", "alert:T0001:b3"]
    assert receiver.batches[1:] == [["alert:T0001:b1"], ["alert:T0001:b2"], ["alert:T0001:b3"]]
    assert sorted(u.alert_id for u in acks.updates) == ["b1", "b3"]


async def test_retry_window_expiry_dead_letters_the_event(db: Database, clock: FakeClock) -> None:
    await store(db, alert("b1"), now=T0)
    receiver = Receiver(503)
    dead_before = sample("gateway_deliveries_total", sink="webhook", outcome="dead")

    async with forwarding(db, receiver, clock, retry_for_s=150.0) as fw:
        await until(outbox_is(db, lambda r: r[0]["attempts"] == 1), fw)
        clock.advance(100)  # due again, still within the window
        await until(outbox_is(db, lambda r: r[0]["attempts"] == 2), fw)
        assert (await outbox_rows(db))[0]["dead"] == 0
        clock.advance(100)  # now 200 s after creation: past the 150 s window
        await until(outbox_is(db, lambda r: r[0]["dead"] == 1), fw)

    [row] = await outbox_rows(db)
    assert (row["attempts"], row["last_error"]) == (3, "HTTP 503")
    assert sample("gateway_deliveries_total", sink="webhook", outcome="dead") - dead_before == 1


async def test_recovery_expedites_rows_still_backing_off(db: Database, clock: FakeClock) -> None:
    await store(db, alert("b1"), alert("b2"), now=T0)
    receiver = Receiver(503)

    async with forwarding(db, receiver, clock) as fw:
        await until(outbox_is(db, lambda r: [x["attempts"] for x in r] == [1, 1]), fw)
        due = sorted(float(r["next_attempt_at"]) for r in await outbox_rows(db))
        assert due[0] < due[1]

        receiver.status = 200
        clock.now = due[0]  # only the first is due; the second would wait until due[1]
        await until(empty(db), fw)

    assert clock.now < due[1]
    assert sorted(receiver.ids()[2:]) == ["alert:T0001:b1", "alert:T0001:b2"]


async def test_a_hung_response_holds_back_no_other_delivery(db: Database, clock: FakeClock) -> None:
    """One request that never gets its answer; the rest of the outbox still drains."""
    await add_events(db, [event("health:slow", Priority.HEALTH, "health")], T0)
    hang = asyncio.Event()
    answered: list[str] = []

    async def receiver(request: httpx.Request) -> httpx.Response:
        payload = Webhook(SECRET).verify(request.content, dict(request.headers))
        ids = [e["event_id"] for e in payload["events"]]
        if "health:slow" in ids:
            await hang.wait()  # the command center never answers this one
        answered.extend(ids)
        return httpx.Response(200)

    plan = lanes(workers=2, alarm_workers=1, batch_max=1, linger_s=0.0)
    async with forwarding(db, receiver, clock, plan=plan) as fw:
        await until(outbox_is(db, lambda r: r[0]["lease_owner"] is not None), fw)
        await store(db, alert("b1"), alert("b2"), now=T0)
        await add_events(db, [event(f"health:{n}", Priority.HEALTH, "health") for n in range(5)],
                         T0)  # fmt: skip
        fw.wake()
        await until(outbox_is(db, lambda r: [x["event_id"] for x in r] == ["health:slow"]), fw)
        hang.set()

    assert sorted(answered) == sorted(
        ["alert:T0001:b1", "alert:T0001:b2", *[f"health:{n}" for n in range(5)], "health:slow"]
    )


async def test_alarms_go_out_while_every_general_worker_is_stuck(
    db: Database, clock: FakeClock
) -> None:
    await add_events(db, [event(f"health:{n}", Priority.HEALTH, "health") for n in range(3)], T0)
    release = asyncio.Event()
    delivered: list[str] = []

    async def receiver(request: httpx.Request) -> httpx.Response:
        payload = Webhook(SECRET).verify(request.content, dict(request.headers))
        ids = [e["event_id"] for e in payload["events"]]
        if any(i.startswith("health:") for i in ids):
            await release.wait()
        delivered.extend(ids)
        return httpx.Response(200)

    plan = lanes(workers=2, alarm_workers=1, batch_max=1, linger_s=0.0)
    async with forwarding(db, receiver, clock, plan=plan) as fw:
        await until(outbox_is(db, lambda r: sum(x["lease_owner"] is not None for x in r) == 2), fw)
        await store(db, alert("b1"), now=T0)
        fw.wake()
        await until(lambda: _has(delivered, "alert:T0001:b1"), fw)
        release.set()
        await until(empty(db), fw)


async def _has(items: list[str], wanted: str) -> bool:
    return wanted in items


async def test_telemetry_lingers_to_fill_a_batch(db: Database, clock: FakeClock) -> None:
    receiver = Receiver(200)

    plan = (Lane("general", 1, 100, linger_s=0.3),)
    async with forwarding(db, receiver, clock, plan=plan) as fw:
        await add_events(db, [event("health:0", Priority.HEALTH, "health")], T0)
        fw.wake()
        await until(empty(db), fw)
        # arriving one by one, while the lane lingers after its short first claim
        for n in range(1, 6):
            await add_events(db, [event(f"health:{n}", Priority.HEALTH, "health")], T0)
            fw.wake()
        await until(empty(db), fw)

    assert receiver.batches[0] == ["health:0"]
    assert len(receiver.batches) < 6


async def test_a_bug_in_a_sink_is_contained_and_the_batch_retried(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"), now=T0)
    calls = 0

    def receiver(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("bug")  # not an HTTP error: MockTransport lets it through
        return httpx.Response(200)

    async with forwarding(db, receiver, clock) as fw:
        await until(outbox_is(db, lambda r: r[0]["attempts"] == 1), fw)
        [row] = await outbox_rows(db)
        assert row["last_error"] == "internal error"
        clock.advance(60)
        await until(empty(db), fw)
    assert calls == 2


async def test_committed_telemetry_wakes_only_the_lane_that_carries_it(
    db: Database, clock: FakeClock
) -> None:
    """Each intake commit wakes the forwarder; a wake for health reports must not make the
    alarm lane claim (a write transaction that goes ahead of every other writer)."""

    def claims(lane: str) -> float:
        return sample("gateway_store_lock_held_seconds_count", txn=lane)

    async with forwarding(db, Receiver(), clock, plan=lanes(1, 1, 200, 0.0)) as forwarder:
        await asyncio.sleep(0.05)  # both lanes found nothing and sleep
        alarms, general = claims("claim_alarms"), claims("claim")
        for _ in range(20):
            forwarder.wake(Priority.HEALTH)
            await asyncio.sleep(0.005)
        after_health = claims("claim_alarms"), claims("claim")
        forwarder.wake(Priority.ALERT)
        await asyncio.sleep(0.05)
        after_alert = claims("claim_alarms")

    assert after_health[0] == alarms
    assert after_health[1] >= general + 10
    assert after_alert > alarms
