"""A message intake cannot handle is set aside; the rest of its batch is stored and acked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from firmware_protocol.codec import encode_alert
from firmware_protocol.messages import Alert, AlertKind, Stage
from gateway.config import RulesConfig
from gateway.core import intake as core_intake
from gateway.errors import StoreError, StoreFull
from gateway.intake import pipeline
from gateway.intake.pipeline import Intake
from gateway.intake.router import Raw
from gateway.store.db import Database
from gateway.store.quarantine import Quarantine
from tests.integration.store.helpers import REGISTRY, T0, FakeAcks, FakeClock, rows, sample

pytestmark = pytest.mark.integration


def raw_alert(alert_id: str, terminal_id: str = "T0001") -> Raw:
    message = Alert(terminal_id, alert_id, AlertKind.EMERGENCY, T0 - 2)
    return Raw(f"ec/v1/t/{terminal_id}/alert", encode_alert(message))


def intake(db: Database, acks: FakeAcks, clock: FakeClock) -> Intake:
    return Intake(REGISTRY, RulesConfig(), db, ["webhook"], acks, lambda _: None, clock)


@pytest.fixture
def poison_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in planning that only the alert id "poison" triggers."""

    def planner(messages: Sequence[Any], *args: Any) -> core_intake.IntakePlan:
        if any(getattr(m, "alert_id", "") == "poison" for m in messages):
            raise KeyError("a bug")
        return core_intake.plan_intake(messages, *args)

    monkeypatch.setattr(pipeline, "plan_intake", planner)


@pytest.mark.usefixtures("poison_bug")
async def test_the_rest_of_the_batch_is_stored_and_acked(db: Database, clock: FakeClock) -> None:
    acks = FakeAcks()
    batch = [raw_alert("b1"), raw_alert("poison"), raw_alert("b2", "T0002"), raw_alert("b3")]
    new_before = sample("gateway_quarantined_messages_total", kind="new")

    await intake(db, acks, clock).handle(batch)

    assert sorted(acks.stages()) == [
        ("T0001", "b1", Stage.RECEIVED),
        ("T0001", "b3", Stage.RECEIVED),
        ("T0002", "b2", Stage.RECEIVED),
    ]
    stored = sorted(r["alert_id"] for r in await rows(db, "SELECT alert_id FROM alerts"))
    assert stored == ["b1", "b2", "b3"]
    [kept] = await Quarantine(db).list()
    assert kept["topic"] == "ec/v1/t/T0001/alert"
    assert '"alert_id":"poison"' in kept["payload"]
    assert kept["error"] == "KeyError: 'a bug'"
    assert sample("gateway_quarantined_messages_total", kind="new") - new_before == 1


@pytest.mark.usefixtures("poison_bug")
async def test_a_retransmitted_poison_is_dropped_on_sight_even_after_a_restart(
    db: Database, clock: FakeClock
) -> None:
    acks = FakeAcks()
    first = intake(db, acks, clock)
    await first.handle([raw_alert("poison")])
    failures = sample("gateway_intake_failed_batches_total")
    repeats = sample("gateway_quarantined_messages_total", kind="repeat")

    await first.handle([raw_alert("poison"), raw_alert("b1")])
    restarted = intake(db, acks, clock)
    await restarted.prepare()
    await restarted.handle([raw_alert("poison")])

    assert sample("gateway_intake_failed_batches_total") == failures  # no new failure
    assert sample("gateway_quarantined_messages_total", kind="repeat") - repeats == 2
    assert acks.stages() == [("T0001", "b1", Stage.RECEIVED)]
    [kept] = await Quarantine(db).list()
    assert kept["count"] == 1


async def test_a_store_that_refuses_every_write_is_not_mistaken_for_poison(
    db: Database, clock: FakeClock
) -> None:
    await db.writer.execute("PRAGMA query_only = 1")  # every write now fails
    acks = FakeAcks()

    with pytest.raises(StoreError, match="readonly database"):
        await intake(db, acks, clock).handle([raw_alert("b1"), raw_alert("b2")])

    assert acks.updates == []


async def test_a_full_disk_is_never_mistaken_for_poison(db: Database, clock: FakeClock) -> None:
    """Even where a small set-aside row would still fit, nothing is set aside."""
    async with db.writer.execute("PRAGMA page_count") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    await db.writer.execute(f"PRAGMA max_page_count = {row[0]}")
    acks = FakeAcks()
    batch = [raw_alert(f"b{n}", "T0002") for n in range(200)]

    with pytest.raises(StoreFull):
        await intake(db, acks, clock).handle(batch)

    assert await Quarantine(db).list() == []
    assert acks.updates == []
