"""Forwarder + WebhookSink over httpx.MockTransport, on a real outbox, with a fake clock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiomqtt
import httpx
import pytest
from standardwebhooks import Webhook

from firmware_protocol.messages import Stage
from gateway.core.backoff import Backoff
from gateway.forward.forwarder import Forwarder
from gateway.forward.webhook import WebhookSink
from gateway.operations import Operations
from gateway.store.alerts import AlertStore
from gateway.store.audit import AuditLog
from gateway.store.db import Database
from gateway.store.outbox import Outbox, OutboxItem
from tests.integration.store.helpers import T0, FakeAcks, FakeClock, alert, rows, sample, store

pytestmark = pytest.mark.integration

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
URL = "http://command-center.test/webhook"
BACKOFF = Backoff(base=100.0, cap=100.0)  # every retry waits 50..100 s of fake time
Check = Callable[[], Awaitable[bool]]
Rows = list[dict[str, Any]]


class Receiver:
    """The command center: answers each POST with ``status`` (or ``by_id[webhook-id]``)."""

    def __init__(self, status: int = 200, by_id: dict[str, int] | None = None) -> None:
        self.status = status
        self.by_id = by_id or {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.by_id.get(request.headers["webhook-id"], self.status))

    def ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests]


class Confirmed:
    """An on_delivered callback that records what it was given."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    async def __call__(self, items: Sequence[OutboxItem]) -> None:
        self.batches.append([i.event_id for i in items])

    def received(self, batches: int) -> Check:
        """Whether ``batches`` confirmations arrived (the forwarder's last step of a batch)."""

        async def check() -> bool:
            return len(self.batches) >= batches

        return check


@asynccontextmanager
async def forwarding(
    db: Database, receiver: Receiver, clock: FakeClock, *, concurrency: int = 1,
    retry_for_s: float = 3600.0,
    on_delivered: Callable[[Sequence[OutboxItem]], Awaitable[None]] | None = None,
) -> AsyncIterator[Forwarder]:  # fmt: skip
    """A running forwarder to the receiver; stopped when the block ends."""
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        forwarder = Forwarder(
            WebhookSink(URL, SECRET, client), Outbox(db), concurrency=concurrency, lease_s=30.0,
            retry_for_s=retry_for_s, backoff=BACKOFF, on_delivered=on_delivered, clock=clock,
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


async def test_event_is_delivered_signed_once_and_leaves_the_outbox(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"), now=T0)
    [stored] = await rows(db, "SELECT body FROM events")
    receiver, confirmed = Receiver(200), Confirmed()
    ok_before = sample("gateway_deliveries_total", sink="webhook", outcome="ok")

    async with forwarding(db, receiver, clock, on_delivered=confirmed) as fw:
        await until(confirmed.received(1), fw)

    assert await outbox_rows(db) == []
    [request] = receiver.requests
    assert request.headers["webhook-id"] == "alert:T0001:b1"
    assert Webhook(SECRET).verify(request.content, dict(request.headers)) == json.loads(
        stored["body"]
    )
    assert confirmed.batches == [["alert:T0001:b1"]]
    assert sample("gateway_deliveries_total", sink="webhook", outcome="ok") - ok_before == 1


async def test_server_error_is_retried_with_backoff_and_delivered_later(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"), now=T0)
    receiver, confirmed = Receiver(503), Confirmed()

    async with forwarding(db, receiver, clock, on_delivered=confirmed) as fw:
        await until(outbox_is(db, lambda r: r[0]["attempts"] == 1), fw)
        [row] = await outbox_rows(db)
        assert T0 + 50 <= float(row["next_attempt_at"]) <= T0 + 100
        assert row["last_error"] == "HTTP 503"
        assert confirmed.batches == []

        receiver.status = 200
        clock.advance(100)
        await until(confirmed.received(1), fw)

    assert await outbox_rows(db) == []

    assert receiver.ids() == ["alert:T0001:b1"] * 2
    assert confirmed.batches == [["alert:T0001:b1"]]
    # each attempt is signed afresh and verifies
    for request in receiver.requests:
        Webhook(SECRET).verify(request.content, dict(request.headers))


async def test_refused_payload_is_dead_lettered_without_retry(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"), now=T0)
    receiver, confirmed = Receiver(400), Confirmed()

    async with forwarding(db, receiver, clock, on_delivered=confirmed) as fw:
        await until(outbox_is(db, lambda r: r[0]["dead"] == 1), fw)

    [row] = await outbox_rows(db)
    assert (row["last_error"], row["attempts"]) == ("HTTP 400", 1)
    assert await Outbox(db).next_due("webhook") is None  # never tried again
    assert len(receiver.requests) == 1
    assert confirmed.batches == []


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
        await until(outbox_is(db, lambda r: r == []), fw)

    assert clock.now < due[1]
    assert sorted(receiver.ids()[2:]) == ["alert:T0001:b1", "alert:T0001:b2"]


async def test_on_delivered_gets_only_confirmed_items(db: Database, clock: FakeClock) -> None:
    await store(db, alert("b1"), alert("b2"), alert("b3"), now=T0)
    receiver, confirmed = Receiver(200, by_id={"alert:T0001:b2": 422}), Confirmed()

    async with forwarding(db, receiver, clock, concurrency=8, on_delivered=confirmed) as fw:
        await until(confirmed.received(1), fw)

    [dead] = await outbox_rows(db)
    assert (dead["event_id"], dead["dead"]) == ("alert:T0001:b2", 1)
    assert [sorted(batch) for batch in confirmed.batches] == [["alert:T0001:b1", "alert:T0001:b3"]]


async def test_confirmed_alert_reaches_delivered_and_its_terminal_is_told(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"), now=T0)
    acks = FakeAcks()
    ops = Operations(AlertStore(db, ["webhook"]), AuditLog(db), acks, no_client, lambda: None,
                     clock)  # fmt: skip

    async with forwarding(db, Receiver(200), clock, on_delivered=ops.mark_delivered) as fw:
        await until(lambda: has_acks(acks), fw)

    assert acks.stages() == [("T0001", "b1", Stage.DELIVERED)]
    [row] = await rows(db, "SELECT stage FROM alerts")
    assert row["stage"] == "delivered"


async def test_several_failures_in_one_batch_are_all_rescheduled(
    db: Database, clock: FakeClock
) -> None:
    """Both reschedules share one writer connection; neither may break the other."""
    await store(db, alert("b1"), alert("b2"), now=T0)
    receiver = Receiver(503)

    async with forwarding(db, receiver, clock, concurrency=2) as fw:
        await until(outbox_is(db, lambda r: [x["attempts"] for x in r] == [1, 1]), fw)
        receiver.status = 200
        clock.advance(100)
        await until(outbox_is(db, lambda r: r == []), fw)  # the forwarder is still alive

    assert sorted(receiver.ids()) == ["alert:T0001:b1"] * 2 + ["alert:T0001:b2"] * 2


async def has_acks(acks: FakeAcks) -> bool:
    return bool(acks.updates)


async def no_client() -> aiomqtt.Client:
    raise AssertionError("no MQTT client in this test")
