"""AckPublisher: stage updates become QoS 1 acks on the terminal's ack topic."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from typing import cast

import aiomqtt

from firmware_protocol.codec import decode_ack
from firmware_protocol.messages import Ack, Stage
from gateway.intake.acks import AckPublisher, Confirm
from gateway.registry import Registry
from gateway.store.intake import StageUpdate
from gateway.zones import Downlinks
from tests.unit.gateway.helpers import sample, terminal

SENTINEL = StageUpdate("T-sentinel", "s1", Stage.RECEIVED)
SENTINEL_TOPICS = ("ec/v1/t/T-sentinel/ack", "ec/v1/z/north/t/T-sentinel/ack")


class FakeClient:
    """Records publishes; fails those whose topic is in ``failing``."""

    def __init__(self, failing: frozenset[str] = frozenset()) -> None:
        self.published: list[tuple[str, Ack, int]] = []
        self.failing = failing
        self.expected = 0
        self.attempts = 0
        self.all_attempted = asyncio.Event()
        self.sentinel = asyncio.Event()
        self.confirmed: list[StageUpdate] = []

    async def publish(self, topic: str, payload: bytes, qos: int) -> None:
        self.attempts += 1
        if self.attempts >= self.expected:
            self.all_attempted.set()
        if topic in SENTINEL_TOPICS:
            self.sentinel.set()
            return
        if topic in self.failing:
            raise aiomqtt.MqttError("broker gone")
        self.published.append((topic, decode_ack(payload), qos))


async def publish_all(
    client: FakeClient,
    updates: list[StageUpdate],
    downlinks: Downlinks | None = None,
    routable: int | None = None,
) -> None:
    """Run a publisher until every update went out and its batch was accounted for.

    With one worker, batches are confirmed in the order they were taken, so once a
    sentinel submitted afterwards has been confirmed, the batch before it (and its
    metrics) is complete.
    """
    sentinel_confirmed = asyncio.Event()

    async def source() -> aiomqtt.Client:
        return cast(aiomqtt.Client, client)

    async def confirm(sent: Sequence[StageUpdate]) -> None:
        client.confirmed.extend(sent)
        if SENTINEL in sent:
            sentinel_confirmed.set()

    publisher = AckPublisher(source, 10, confirm, downlinks, workers=1)
    client.expected = len(updates) if routable is None else routable
    async with asyncio.timeout(5), asyncio.TaskGroup() as tg:
        runner = tg.create_task(publisher.run())
        await publisher.submit(updates)
        await client.all_attempted.wait()
        await publisher.submit([SENTINEL])
        await sentinel_confirmed.wait()
        runner.cancel()


async def test_updates_are_published_as_acks_on_each_terminals_topic() -> None:
    client = FakeClient()
    before = sample("gateway_acks_total", stage="accepted")

    await publish_all(
        client,
        [
            StageUpdate("T0001", "b1", Stage.RECEIVED),
            StageUpdate("T0002", "b7", Stage.ACCEPTED, by="Li Wei", eta_s=600),
        ],
    )

    by_topic = {topic: (ack, qos) for topic, ack, qos in client.published}
    ack1, qos1 = by_topic["ec/v1/t/T0001/ack"]
    ack2, qos2 = by_topic["ec/v1/t/T0002/ack"]
    assert (ack1.alert_id, ack1.stage, qos1) == ("b1", Stage.RECEIVED, 1)
    assert (ack2.alert_id, ack2.stage, ack2.by, ack2.eta_s, qos2) == (
        "b7", Stage.ACCEPTED, "Li Wei", 600, 1,
    )  # fmt: skip
    assert sample("gateway_acks_total", stage="accepted") - before == 1


async def test_cancelled_note_reaches_the_terminal() -> None:
    client = FakeClient()

    await publish_all(client, [StageUpdate("T0001", "b1", Stage.RESOLVED, note="cancelled")])

    [(_, ack, _)] = client.published
    assert (ack.stage, ack.note) == (Stage.RESOLVED, "cancelled")


async def test_a_failed_publish_is_counted_and_the_others_still_go_out() -> None:
    client = FakeClient(failing=frozenset({"ec/v1/t/T0002/ack"}))
    before = sample("gateway_ack_failures_total")

    await publish_all(
        client,
        [StageUpdate(t, "b1", Stage.RECEIVED) for t in ("T0001", "T0002", "T0003")],
    )

    assert sorted(topic for topic, _, _ in client.published) == [
        "ec/v1/t/T0001/ack",
        "ec/v1/t/T0003/ack",
    ]
    assert sample("gateway_ack_failures_total") - before == 1
    # Only what went out leaves the ack outbox; the failed one stays for the resender.
    assert sorted(u.terminal_id for u in client.confirmed if u is not SENTINEL) == [
        "T0001",
        "T0003",
    ]


async def test_in_a_district_acks_go_to_the_terminals_zone_only() -> None:
    client = FakeClient()
    zoned = Registry(
        [replace(terminal("T0001"), zone="south"), replace(terminal("T-sentinel"), zone="north")]
    )
    before = sample("gateway_ack_failures_total")

    await publish_all(
        client,
        [StageUpdate("T0001", "b1", Stage.RECEIVED), StageUpdate("T0009", "b2", Stage.RECEIVED)],
        Downlinks(zoned, bridged=True),
        routable=1,
    )

    assert [topic for topic, _, _ in client.published] == ["ec/v1/z/south/t/T0001/ack"]
    # T0009 left the registry: nobody is left to hear it, so it is counted and not retried.
    assert sample("gateway_ack_failures_total") - before == 1
    assert {u.terminal_id for u in client.confirmed} >= {"T0001", "T0009"}


class HangingClient:
    """Publishes at once, except to topics in ``hanging``, whose PUBACK never comes."""

    def __init__(self, hanging: frozenset[str] = frozenset()) -> None:
        self.hanging = hanging
        self.published: list[str] = []
        self.new = asyncio.Condition()

    async def publish(self, topic: str, payload: bytes, qos: int) -> None:
        if topic in self.hanging:
            await asyncio.Event().wait()
        async with self.new:
            self.published.append(topic)
            self.new.notify_all()

    async def wait_for(self, topic: str) -> None:
        async with self.new:
            await self.new.wait_for(lambda: topic in self.published)


class Confirmed:
    """The store's side: what was marked acked, and a way to wait for it."""

    def __init__(self, store_free: asyncio.Event | None = None) -> None:
        self.updates: list[StageUpdate] = []
        self.store_free = store_free
        self.new = asyncio.Condition()

    async def __call__(self, sent: Sequence[StageUpdate]) -> None:
        if self.store_free is not None:
            await self.store_free.wait()
        async with self.new:
            self.updates.extend(sent)
            self.new.notify_all()

    async def wait_for(self, n: int) -> None:
        async with self.new:
            await self.new.wait_for(lambda: len(self.updates) >= n)


def publisher_for(client: HangingClient, confirm: Confirm, maxsize: int = 10) -> AckPublisher:
    async def source() -> aiomqtt.Client:
        return cast(aiomqtt.Client, client)

    return AckPublisher(source, maxsize, confirm)


async def test_a_slow_store_does_not_hold_back_the_next_ack() -> None:
    """The store's write lock may be busy with a large intake batch: marking acks as
    sent waits for it, the next elder's ack must not."""
    client = HangingClient()
    store_free = asyncio.Event()
    confirmed = Confirmed(store_free)

    publisher = publisher_for(client, confirmed)
    async with asyncio.timeout(5), asyncio.TaskGroup() as tg:
        runner = tg.create_task(publisher.run())
        await publisher.submit([StageUpdate("T0001", "b1", Stage.RECEIVED)])
        await client.wait_for("ec/v1/t/T0001/ack")
        await asyncio.sleep(0.05)  # the first confirmation is now waiting for the store
        await publisher.submit([StageUpdate("T0002", "b2", Stage.RECEIVED)])
        async with asyncio.timeout(1):
            await client.wait_for("ec/v1/t/T0002/ack")
        assert confirmed.updates == []
        store_free.set()
        await confirmed.wait_for(2)
        runner.cancel()
    assert {u.terminal_id for u in confirmed.updates} == {"T0001", "T0002"}


async def test_an_ack_waiting_for_its_puback_does_not_hold_back_others() -> None:
    client = HangingClient(hanging=frozenset({"ec/v1/t/T0001/ack"}))
    confirmed = Confirmed()

    publisher = publisher_for(client, confirmed)
    async with asyncio.timeout(5), asyncio.TaskGroup() as tg:
        runner = tg.create_task(publisher.run())
        await publisher.submit([StageUpdate("T0001", "b1", Stage.RECEIVED)])
        await asyncio.sleep(0.05)
        await publisher.submit([StageUpdate("T0002", "b2", Stage.RECEIVED)])
        async with asyncio.timeout(1):
            await client.wait_for("ec/v1/t/T0002/ack")
        await confirmed.wait_for(1)
        runner.cancel()
    # The hanging one is not marked sent: it stays for the resender.
    assert [u.terminal_id for u in confirmed.updates] == ["T0002"]


async def test_a_long_store_stall_holds_back_no_ack() -> None:
    """A checkpoint or a large intake transaction can hold the write lock for a second or
    more: every ack published meanwhile (each its own batch here) waits for the store's
    bookkeeping, none for the elder."""
    client = HangingClient()
    store_free = asyncio.Event()
    confirmed = Confirmed(store_free)
    publisher = publisher_for(client, confirmed, maxsize=1000)
    async with asyncio.timeout(10), asyncio.TaskGroup() as tg:
        runner = tg.create_task(publisher.run())
        for n in range(100):
            await publisher.submit([StageUpdate(f"T{n:04d}", "b1", Stage.RECEIVED)])
            async with asyncio.timeout(1):
                await client.wait_for(f"ec/v1/t/T{n:04d}/ack")
        assert confirmed.updates == []
        store_free.set()
        await confirmed.wait_for(100)
        runner.cancel()
    assert len({u.terminal_id for u in confirmed.updates}) == 100
