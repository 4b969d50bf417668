"""The Escalator against a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from firmware_protocol.messages import AlertKind, Stage
from gateway.console.escalator import Escalator
from gateway.core.escalation import EscalationRule
from gateway.store.alerts import Advance, AlertStore
from gateway.store.db import Database, open_database
from tests.unit.console.conftest import FakeClock
from tests.unit.console.factory import press

RULES = (EscalationRule(60, 1, "town"), EscalationRule(120, 2, "district"))


async def _alert(db: Database, terminal: str, alert: str) -> dict[str, object]:
    found = await AlertStore(db, []).get(terminal, alert)
    assert found is not None
    return found


async def test_unaccepted_alarm_climbs_the_ladder(db: Database, clock: FakeClock) -> None:
    await press(db, "T001", "a1", now=clock.now)
    escalator = Escalator(db, RULES, clock)
    clock.advance(59)
    assert await escalator.sweep() == []
    clock.advance(1)
    [first] = await escalator.sweep()
    assert (first.level, first.name) == (1, "town")
    assert await escalator.sweep() == []  # idempotent
    alert = await _alert(db, "T001", "a1")
    assert alert["escalation_level"] == 1
    assert alert["updated_at"] == clock.now
    clock.advance(60)
    [second] = await escalator.sweep()
    assert second.name == "district"
    timeline = (await _alert(db, "T001", "a1"))["timeline"]
    assert isinstance(timeline, list)
    escalations = [(e["actor"], e["note"]) for e in timeline if e["action"] == "escalated"]
    assert escalations == [("escalator", "to town"), ("escalator", "to district")]


async def test_a_late_sweep_jumps_straight_to_the_due_level(db: Database, clock: FakeClock) -> None:
    await press(db, "T001", "a1", now=clock.now)
    clock.advance(500)
    [only] = await Escalator(db, RULES, clock).sweep()
    assert only.level == 2


async def test_accepted_and_non_help_alarms_stay_put(db: Database, clock: FakeClock) -> None:
    await press(db, "T001", "a1", now=clock.now)
    await press(db, "T002", "t1", AlertKind.TEST, now=clock.now)
    await AlertStore(db, []).advance([Advance("T001", "a1", Stage.ACCEPTED, "Li")], clock.now)
    clock.advance(500)
    assert await Escalator(db, RULES, clock).sweep() == []


async def test_two_processes_write_each_escalation_once(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "shared.db"
    async with open_database(path, "NORMAL") as one, open_database(path, "NORMAL") as two:
        for n in range(20):
            await press(one, f"T00{n % 6 + 1}", f"a{n}", now=clock.now)
        clock.advance(61)
        first, second = Escalator(one, RULES, clock), Escalator(two, RULES, clock)
        # Both read the same candidates before either writes.
        due_one, due_two = await first.due(clock.now), await second.due(clock.now)
        assert len(due_one) == len(due_two) == 20
        done = [*await first.apply(due_one, clock.now), *await second.apply(due_two, clock.now)]
        assert len(done) == 20
        async with one.reader.execute(
            "SELECT count(*) FROM alert_timeline WHERE action = 'escalated'"
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None
        assert row[0] == 20


async def test_escalations_are_forwarded_and_service_requests_never_escalate(
    db: Database, clock: FakeClock
) -> None:
    await press(db, "T001", "a1", now=clock.now)
    await press(db, "T002", "m1", AlertKind.MEAL, now=clock.now)
    woken: list[int] = []
    escalator = Escalator(
        db, RULES, clock, sinks=["webhook"], on_new_events=lambda: woken.append(1),
        exclude_kinds={"meal"},
    )  # fmt: skip
    clock.advance(500)
    [only] = await escalator.sweep()
    assert (only.alert_id, only.level) == ("a1", 2)
    async with db.reader.execute(
        "SELECT e.event_id, e.type FROM events e JOIN outbox o ON o.event_id = e.event_id"
        " WHERE e.type = 'alert.escalated'"
    ) as cursor:
        rows = [tuple(r) async for r in cursor]
    assert rows == [("escalated:T001:a1:2", "alert.escalated")]
    assert woken == [1]
