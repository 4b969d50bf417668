"""The live feed's change query, against a real SQLite file."""

from __future__ import annotations

import json

from firmware_protocol.messages import AlertKind, Stage
from gateway.console.feed import ChangeFeed, event_stream
from gateway.core.escalation import EscalationRule
from gateway.store.alerts import Advance, AlertStore
from gateway.store.db import Database
from tests.unit.console.conftest import FakeClock
from tests.unit.console.factory import DONGCUN, REGISTRY, press

RULES = (EscalationRule(60, 1, "town"),)


def _feed(db: Database, region: tuple[str, ...] = (), page: int = 1000) -> ChangeFeed:
    return ChangeFeed(db, region, REGISTRY, RULES, overlap_s=2.0, page=page)


async def test_snapshot_has_open_help_alarms_newest_first(db: Database, clock: FakeClock) -> None:
    await press(db, "T001", "a1", AlertKind.MEAL, clock.now - 30)
    await press(db, "T003", "a2", AlertKind.EMERGENCY, clock.now - 20)
    await press(db, "T005", "t1", AlertKind.TEST, clock.now - 10)
    await AlertStore(db, []).advance([Advance("T001", "a1", Stage.RESOLVED, "wang")], clock.now - 5)
    await press(db, "T005", "a3", AlertKind.NURSING, clock.now - 1)
    alarms = await _feed(db).snapshot(clock.now, 100)
    assert [a["key"] for a in alarms] == ["T005/a3", "T003/a2"]
    emergency = alarms[1]
    assert emergency["elder"] == "张建国"
    assert emergency["priority"] == 0
    assert emergency["region"] == ["Binjiang", "Changan", "Xicun"]
    assert emergency["open"]
    assert emergency["level"] == 0


async def test_changes_are_sent_once_each(db: Database, clock: FakeClock) -> None:
    feed = _feed(db)
    await feed.snapshot(clock.now, 100)
    clock.advance(0.4)
    assert await feed.changes(clock.now) == []
    await press(db, "T001", "a1", now=clock.now)
    clock.advance(0.4)
    assert [a["key"] for a in await feed.changes(clock.now)] == ["T001/a1"]
    clock.advance(0.4)
    assert await feed.changes(clock.now) == []  # re-read in the overlap, not re-sent
    await AlertStore(db, []).advance(
        [Advance("T001", "a1", Stage.ACCEPTED, "Li", eta_s=600)], clock.now
    )
    clock.advance(0.4)
    [accepted] = await feed.changes(clock.now)
    assert accepted["stage"] == "accepted"
    assert accepted["accepted_by"] == "Li"
    await AlertStore(db, []).advance([Advance("T001", "a1", Stage.RESOLVED, "Li")], clock.now)
    clock.advance(0.4)
    [resolved] = await feed.changes(clock.now)
    assert resolved["open"] is False


async def test_a_commit_stamped_in_the_past_is_still_seen(db: Database, clock: FakeClock) -> None:
    """Another process with a clock 1.5 s behind commits after our last poll."""
    feed = _feed(db)
    await feed.snapshot(clock.now, 100)
    clock.advance(0.5)
    await feed.changes(clock.now)
    await press(db, "T002", "late", now=clock.now - 1.5)
    clock.advance(0.4)
    assert [a["key"] for a in await feed.changes(clock.now)] == ["T002/late"]


async def test_only_the_viewers_region(db: Database, clock: FakeClock) -> None:
    feed = _feed(db, DONGCUN)
    await feed.snapshot(clock.now, 100)
    for terminal in ("T001", "T003", "T005", "T002"):
        await press(db, terminal, "x", now=clock.now)
    clock.advance(0.4)
    assert sorted(a["terminal_id"] for a in await feed.changes(clock.now)) == ["T001", "T002"]
    town = _feed(db, DONGCUN[:2])
    assert len(await town.snapshot(clock.now, 100)) == 3


async def test_a_burst_larger_than_a_page_arrives_whole(db: Database, clock: FakeClock) -> None:
    feed = _feed(db, page=7)
    await feed.snapshot(clock.now, 100)
    for n in range(40):  # same updated_at for several rows: keyset pages must not skip
        await press(db, f"T00{n % 6 + 1}", f"b{n}", now=clock.now + (n // 10) * 0.01)
    clock.advance(0.4)
    changed = await feed.changes(clock.now)
    assert len(changed) == len({a["key"] for a in changed}) == 40


async def test_escalation_level_and_name_are_shown(db: Database, clock: FakeClock) -> None:
    await press(db, "T001", "a1", now=clock.now)
    async with db.transaction() as conn:
        await conn.execute("UPDATE alerts SET escalation_level = 1")
    [alarm] = await _feed(db).snapshot(clock.now, 100)
    assert (alarm["level"], alarm["level_name"]) == (1, "town")


async def test_event_stream_sends_snapshot_then_changes(db: Database, clock: FakeClock) -> None:
    await press(db, "T001", "a1", now=clock.now)

    async def allowed() -> bool:
        return True

    stream = event_stream(_feed(db), allowed, clock, poll_s=0.01, snapshot_limit=100)
    assert await anext(stream) == "retry: 2000\n\n"
    event, data = (await anext(stream)).strip().split("\n")
    assert event == "event: snapshot"
    snapshot = json.loads(data.removeprefix("data: "))
    assert [a["key"] for a in snapshot["alerts"]] == ["T001/a1"]
    assert snapshot["now"] == clock.now
    assert snapshot["truncated"] is False
    await press(db, "T002", "a2", now=clock.now)
    clock.advance(0.4)
    event, data = (await anext(stream)).strip().split("\n")
    assert event == "event: alerts"
    assert [a["key"] for a in json.loads(data.removeprefix("data: "))["alerts"]] == ["T002/a2"]
    await stream.aclose()


async def test_schema_can_be_ensured_again(db: Database) -> None:

    async with db.reader.execute(
        "SELECT name FROM sqlite_master WHERE name IN ('accounts', 'sessions', 'login_failures',"
        " 'alerts_by_update', 'alerts_open', 'alerts_unaccepted')"
    ) as cursor:
        assert len([row async for row in cursor]) == 6


async def test_following_one_alarm(db: Database, clock: FakeClock) -> None:
    await press(db, "T001", "a1", now=clock.now)
    await press(db, "T001", "a2", now=clock.now)
    feed = ChangeFeed(db, (), REGISTRY, RULES, 2.0, only=("T001", "a2"))
    assert [a["key"] for a in await feed.snapshot(clock.now, 100)] == ["T001/a2"]
