"""Intake.handle: route → plan → store (one commit) → acks, checked against the vectors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from firmware_protocol.codec import encode_alert, encode_health
from firmware_protocol.messages import Alert, AlertKind, Health, Stage, Vitals
from firmware_protocol.vectors import Vector, load_vectors
from gateway.config import RulesConfig
from gateway.core.events import Priority
from gateway.intake.pipeline import Intake
from gateway.intake.router import Raw
from gateway.store.db import Database
from gateway.store.intake import StageUpdate
from tests.integration.store.helpers import REGISTRY, T0, FakeAcks, FakeClock, rows, sample

pytestmark = pytest.mark.integration

UPLINK = [v for v in load_vectors() if v.direction == "uplink"]
VALID = [v for v in UPLINK if v.valid]


class CommittedAcks(FakeAcks):
    """Checks, when handed acks, that each alert is already visible to another connection."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self._db = db
        self.visible: list[bool] = []

    async def submit(self, updates: Sequence[StageUpdate]) -> None:
        for u in updates:
            query = "SELECT 1 FROM alerts WHERE terminal_id = ? AND alert_id = ?"
            found = await rows(self._db, query, u.terminal_id, u.alert_id)
            self.visible.append(bool(found))
        await super().submit(updates)


class Wakes:
    """Each wake-up's priority (the most urgent of the events just committed)."""

    def __init__(self) -> None:
        self.priorities: list[int] = []

    def __call__(self, priority: int) -> None:
        self.priorities.append(priority)

    @property
    def count(self) -> int:
        return len(self.priorities)


def intake(db: Database, acks: FakeAcks, wakes: Wakes, clock: FakeClock) -> Intake:
    return Intake(REGISTRY, RulesConfig(), db, ["webhook"], acks, wakes, clock)


def raw_alert(alert_id: str, terminal_id: str = "T0001") -> Raw:
    message = Alert(terminal_id, alert_id, AlertKind.EMERGENCY, T0 - 2)
    return Raw(f"ec/v1/t/{terminal_id}/alert", encode_alert(message))


async def test_acks_are_handed_over_only_after_the_commit(db: Database, clock: FakeClock) -> None:
    acks, wakes = CommittedAcks(db), Wakes()

    await intake(db, acks, wakes, clock).handle([raw_alert("b1"), raw_alert("b2", "T0002")])

    assert acks.stages() == [("T0001", "b1", Stage.RECEIVED), ("T0002", "b2", Stage.RECEIVED)]
    assert acks.visible == [True, True]
    assert wakes.count == 1


async def test_bad_messages_are_dropped_and_the_rest_is_stored(
    db: Database, clock: FakeClock
) -> None:
    acks, wakes = FakeAcks(), Wakes()
    before = sample("gateway_rejected_messages_total", reason="unknown_terminal")

    await intake(db, acks, wakes, clock).handle(
        [Raw("ec/v1/t/T0001/alert", b"garbage"), raw_alert("b1"), raw_alert("b9", "T9999")]
    )

    assert acks.stages() == [("T0001", "b1", Stage.RECEIVED)]
    assert [r["alert_id"] for r in await rows(db, "SELECT alert_id FROM alerts")] == ["b1"]
    assert sample("gateway_rejected_messages_total", reason="unknown_terminal") - before == 1


async def test_batch_of_rejects_stores_nothing_and_answers_nothing(
    db: Database, clock: FakeClock
) -> None:
    acks, wakes = FakeAcks(), Wakes()
    invalid = [Raw(v.topic, v.payload) for v in UPLINK if not v.valid]

    await intake(db, acks, wakes, clock).handle(invalid)

    assert (acks.calls, wakes.count) == (0, 0)
    assert await rows(db, "SELECT * FROM events") == []
    assert await rows(db, "SELECT * FROM terminal_state") == []


async def test_retransmission_is_counted_answered_and_wakes_nobody(
    db: Database, clock: FakeClock
) -> None:
    acks, wakes = FakeAcks(), Wakes()
    pipeline = intake(db, acks, wakes, clock)
    before = sample("gateway_duplicate_alerts_total")
    alerts_before = sample("gateway_alerts_total", kind="emergency", origin="terminal")

    await pipeline.handle([raw_alert("b1")])
    clock.advance(4)
    await pipeline.handle([raw_alert("b1")])

    assert acks.stages() == [("T0001", "b1", Stage.RECEIVED)] * 2
    assert wakes.count == 1
    assert sample("gateway_duplicate_alerts_total") - before == 1
    assert sample("gateway_alerts_total", kind="emergency", origin="terminal") - alerts_before == 1


async def test_a_wake_up_names_the_most_urgent_event_committed(
    db: Database, clock: FakeClock
) -> None:
    acks, wakes = FakeAcks(), Wakes()
    pipeline = intake(db, acks, wakes, clock)
    health = Health("T0001", "h1", T0, Vitals(heart_rate_bpm=72))

    await pipeline.handle([Raw("ec/v1/t/T0001/health", encode_health(health))])
    await pipeline.handle([raw_alert("b1"), raw_alert("b2", "T0002")])

    assert wakes.priorities == [Priority.HEALTH, Priority.ALERT]


async def test_status_only_batch_wakes_no_forwarder(db: Database, clock: FakeClock) -> None:
    acks, wakes = FakeAcks(), Wakes()

    await intake(db, acks, wakes, clock).handle(
        [Raw("ec/v1/t/T0001/status", b'{"v":1,"state":"online"}')]
    )

    assert wakes.count == 0
    assert acks.updates == []
    [state] = await rows(db, "SELECT last_seen FROM terminal_state")
    assert state["last_seen"] == clock.now


async def open_cancelled_alert(db: Database, clock: FakeClock, target: str) -> None:
    """The vectors assume a cancel's target is open; raise it the way it would arise."""
    pipeline = intake(db, FakeAcks(), Wakes(), clock)
    if target.startswith("v-"):
        report = Health("T0001", target.removeprefix("v-"), T0, Vitals(spo2_pct=80.0))
        await pipeline.handle([Raw("ec/v1/t/T0001/health", encode_health(report))])
    else:
        await pipeline.handle([raw_alert(target)])


@pytest.mark.parametrize("vector", VALID, ids=[v.name for v in VALID])
async def test_valid_vector_gets_the_documented_answer(
    db: Database, clock: FakeClock, vector: Vector
) -> None:
    assert vector.decoded is not None
    if vector.decoded.get("kind") == "cancel":
        await open_cancelled_alert(db, clock, vector.decoded["cancels"])
    acks = FakeAcks()

    await intake(db, acks, Wakes(), clock).handle([Raw(vector.topic, vector.payload)])

    # Acks of alerts raised from this report's vitals depend on site rules: not in the vectors.
    answered = [u for u in acks.updates if not (vector.topic.endswith("/health")
                                                and u.alert_id.startswith("v-"))]  # fmt: skip
    expected = (vector.gateway_answer or {}).get("acks", [])
    assert len(answered) == len(expected)
    for update, wanted in zip(answered, expected, strict=True):
        got = {"alert_id": update.alert_id, "stage": update.stage.value, "by": update.by,
               "eta_s": update.eta_s, "note": update.note}  # fmt: skip
        assert {key: got[key] for key in wanted} == wanted


async def test_an_alerts_age_at_intake_is_observed_from_its_press(
    db: Database, clock: FakeClock
) -> None:
    """Pressed 2 s before the batch (raw_alert's ts is T0 - 2): lands in the 2.5 s bucket."""
    name = "gateway_alert_age_seconds_bucket"
    below, at = sample(name, le="1.0"), sample(name, le="2.5")

    await intake(db, FakeAcks(), Wakes(), clock).handle([raw_alert("b1")])

    assert (sample(name, le="1.0") - below, sample(name, le="2.5") - at) == (0, 1)


async def test_an_alarms_transaction_goes_before_writers_that_asked_earlier(
    db: Database, clock: FakeClock
) -> None:
    seen: list[int] = []

    async def other_writer() -> None:
        async with db.transaction("confirm") as conn:
            async with conn.execute("SELECT count(*) FROM alerts") as cur:
                row = await cur.fetchone()
            assert row is not None
            seen.append(row[0])

    async with db.transaction("claim"):  # a writer holds the lock; two more queue up
        writer = asyncio.create_task(other_writer())
        await asyncio.sleep(0.01)
        alarm = asyncio.create_task(
            intake(db, FakeAcks(), Wakes(), clock).handle([raw_alert("b1")])
        )
        await asyncio.sleep(0.01)
    await asyncio.gather(writer, alarm)

    assert seen == [1]  # the alarm committed first, though it asked last
