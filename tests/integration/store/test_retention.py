"""Retention on a real file: old reports folded into daily summaries, old rows dropped."""

from __future__ import annotations

import pytest

from firmware_protocol.messages import Health, Vitals
from gateway.config import StoreConfig
from gateway.core.events import Priority
from gateway.store import health, retention
from gateway.store.db import Database
from gateway.store.outbox import Outbox
from gateway.store.retention import DAY_S, Retention
from tests.integration.store.helpers import (
    T0,
    FakeClock,
    add_events,
    event,
    query_plan,
    rows,
    store,
)

pytestmark = pytest.mark.integration

CFG = StoreConfig(health_raw_days=2, health_daily_days=30, events_days=7)
DAY = int(T0 // DAY_S)  # the day of T0, in days since 1970-01-01 UTC
START = DAY * DAY_S  # its midnight


def report(n: int, terminal: str = "T0001", **vitals: float | int | bool) -> Health:
    return Health(terminal, f"r{n}", START + n, Vitals(**vitals))  # type: ignore[arg-type]


async def newer(db: Database, now: float) -> None:
    """Another terminal's report, stored last: the newest report always stays (the feed's
    ids must never go back), so a test that folds everything stores one after."""
    await store(db, Health("T0002", f"n{now}", now, Vitals(heart_rate_bpm=60)), now=now)


async def test_old_reports_become_a_daily_summary_and_recent_ones_stay(db: Database) -> None:
    await store(db, report(1, heart_rate_bpm=60, spo2_pct=97.0), now=START + 10)
    await store(db, report(2, heart_rate_bpm=80, fall_detected=True), now=START + 20)
    await store(db, report(3, "T0002", heart_rate_bpm=70), now=START + 30)
    await store(db, report(4, heart_rate_bpm=99), now=START + 2.5 * DAY_S)  # still recent
    clock = FakeClock(START + 3 * DAY_S)

    done = await Retention(db, CFG, clock).apply()

    assert done["health"] == 3
    assert [r["report_id"] for r in await rows(db, "SELECT report_id FROM health")] == ["r4"]
    [one, two] = await health.daily(db, "T0001", 0), await health.daily(db, "T0002", 0)
    [summary] = one
    assert (summary["day"], summary["reports"], summary["falls"]) == (DAY, 2, 1)
    assert (summary["heart_rate_bpm_n"], summary["heart_rate_bpm_min"]) == (2, 60)
    assert (summary["heart_rate_bpm_max"], summary["heart_rate_bpm_mean"]) == (80, 70)
    assert (summary["spo2_pct_n"], summary["spo2_pct_mean"]) == (1, 97.0)
    assert summary["glucose_mmol_l_n"] == 0
    assert summary["glucose_mmol_l_mean"] is None
    assert [s["reports"] for s in two] == [1]


async def test_folding_in_many_small_transactions_counts_every_report_once(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "CHUNK", 3)
    reports = [report(n, heart_rate_bpm=50 + n) for n in range(10)]
    await store(db, *reports, now=START + 100)
    await newer(db, START + 5 * DAY_S)
    clock = FakeClock(START + 5 * DAY_S)

    assert (await Retention(db, CFG, clock).apply())["health"] == 10
    assert (await Retention(db, CFG, clock).apply())["health"] == 0  # nothing counted twice

    [summary] = await health.daily(db, "T0001", 0)
    assert (summary["reports"], summary["heart_rate_bpm_sum"]) == (10, sum(range(50, 60)))
    assert (summary["heart_rate_bpm_min"], summary["heart_rate_bpm_max"]) == (50, 59)
    assert [r["terminal_id"] for r in await rows(db, "SELECT * FROM health")] == ["T0002"]


async def test_a_later_chunk_of_the_same_day_merges_into_its_summary(db: Database) -> None:
    await store(db, report(1, heart_rate_bpm=70), now=START + 10)
    await newer(db, START + 3 * DAY_S)
    await Retention(db, CFG, FakeClock(START + 3 * DAY_S)).apply()
    # a report of the same day that arrived late (stored later, folded later)
    await store(db, report(2, heart_rate_bpm=40, body_temp_c=36.6), now=START + 20)
    await newer(db, START + 3 * DAY_S + 1)
    await Retention(db, CFG, FakeClock(START + 3 * DAY_S)).apply()

    [summary] = await health.daily(db, "T0001", 0)
    assert (summary["reports"], summary["heart_rate_bpm_min"], summary["heart_rate_bpm_max"]) == (
        2, 40, 70,
    )  # fmt: skip
    assert (summary["body_temp_c_n"], summary["body_temp_c_min"]) == (1, 36.6)


async def test_summaries_past_their_own_retention_are_dropped(db: Database) -> None:
    await store(db, report(1, heart_rate_bpm=70), now=START + 10)
    await newer(db, START + 3 * DAY_S)
    await Retention(db, CFG, FakeClock(START + 3 * DAY_S)).apply()

    done = await Retention(db, CFG, FakeClock(START + 32 * DAY_S)).apply()

    assert done["health_daily"] == 1
    assert await health.daily(db, "T0001", 0) == []


async def test_the_newest_report_stays_whatever_its_age(db: Database) -> None:
    """Were it dropped, the next report would take its id again: an id at or before a
    feed's cursor, never forwarded."""
    await store(db, report(1, heart_rate_bpm=70), report(2, heart_rate_bpm=71), now=START)

    done = await Retention(db, CFG, FakeClock(START + 10 * DAY_S), sinks=["webhook"]).apply()

    assert done["health"] == 0  # r1 is owed to the webhook, r2 the newest
    outbox = Outbox(db)
    await outbox.confirm(
        "webhook", await outbox.claim("webhook", 5, START, 30), START, advance=False
    )
    done = await Retention(db, CFG, FakeClock(START + 10 * DAY_S), sinks=["webhook"]).apply()

    assert done["health"] == 1
    assert [r["report_id"] for r in await rows(db, "SELECT report_id FROM health")] == ["r2"]
    await store(db, report(3, heart_rate_bpm=72), now=START + 10 * DAY_S)
    [item] = await outbox.claim("webhook", 5, START + 10 * DAY_S, 30)
    assert item.event_id == "health:T0001:r3"


async def test_reports_still_owed_to_a_sink_stay_past_their_retention(db: Database) -> None:
    await store(db, *[report(n, heart_rate_bpm=60 + n) for n in range(4)], now=START)
    await newer(db, START + 10 * DAY_S)
    outbox = Outbox(db)
    first = await outbox.claim("webhook", 2, START, 30)
    await outbox.confirm("webhook", first, START, advance=False)  # r0, r1 delivered; r2, r3 owed

    done = await Retention(db, CFG, FakeClock(START + 10 * DAY_S), sinks=["webhook"]).apply()

    assert done["health"] == 2
    left = [r["report_id"] for r in await rows(db, "SELECT report_id FROM health ORDER BY id")]
    assert left[:2] == ["r2", "r3"]
    assert [i.event_id for i in await outbox.claim("webhook", 2, START, 30)] == [
        "health:T0001:r2", "health:T0001:r3",
    ]  # fmt: skip


async def test_old_events_go_but_those_still_owed_stay(db: Database) -> None:
    await add_events(db, [event("alert:old"), event("alert:dead")], T0)
    await add_events(db, [event("alert:new")], T0 + 6 * DAY_S)
    outbox = Outbox(db)
    items = {i.event_id: i for i in await outbox.claim("webhook", 10, T0 + 7 * DAY_S, 30)}
    await outbox.confirm("webhook", [items["alert:old"], items["alert:new"]], T0, advance=False)
    await outbox.settle_failures([], [(items["alert:dead"], "HTTP 400")])

    done = await Retention(db, CFG, FakeClock(T0 + 8 * DAY_S)).apply()

    assert done["events"] == 1
    left = sorted(r["event_id"] for r in await rows(db, "SELECT event_id FROM events"))
    assert left == ["alert:dead", "alert:new"]


async def test_a_health_event_is_not_stored_when_there_is_no_sink(db: Database) -> None:
    await store(db, report(1, heart_rate_bpm=70), now=START, sinks=[])
    await add_events(db, [event("health:x", Priority.HEALTH, "health")], T0, sinks=[])

    assert await rows(db, "SELECT * FROM events") == []
    assert len(await rows(db, "SELECT * FROM health")) == 1


async def test_the_consoles_chart_reads_recent_reports_as_vitals(db: Database) -> None:
    await store(db, report(1, heart_rate_bpm=70, fall_detected=False), now=START + 1)
    await store(db, report(2, spo2_pct=95.5), now=START + 2)

    assert await health.recent(db, "T0001", START) == [
        (START + 1, {"heart_rate_bpm": 70, "fall_detected": False}),
        (START + 2, {"spo2_pct": 95.5}),
    ]
    assert await health.recent(db, "T0001", START + 1.5) == [(START + 2, {"spo2_pct": 95.5})]


QUERIES = {
    "fold": "SELECT id FROM health WHERE received_at < 1 ORDER BY received_at LIMIT 5",
    "recent": "SELECT ts FROM health WHERE terminal_id = 'T1' AND ts >= 0 ORDER BY ts",
    "summaries": "SELECT terminal_id, day FROM health_daily WHERE day < 1 ORDER BY day LIMIT 5",
    "events": "SELECT event_id FROM events WHERE type <> 'health' AND created_at < 1"
    " ORDER BY created_at LIMIT 5",
}


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_retention_finds_its_rows_through_an_index(db: Database, name: str) -> None:
    """At district scale a full scan of these tables would take minutes."""
    plan = await query_plan(db, QUERIES[name])

    assert [step for step in plan if step.startswith("SCAN")] == []
    assert any("INDEX" in step for step in plan), plan
