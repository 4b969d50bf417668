"""The health feed on a real file: reports owed to a sink past its cursor, no outbox rows."""

from __future__ import annotations

import os

import pytest

from firmware_protocol.messages import Health, Vitals
from gateway.core.events import Priority
from gateway.store.db import Database
from gateway.store.outbox import Outbox, Retry
from tests.integration.store.helpers import T0, alert, rows, store

pytestmark = pytest.mark.integration

LEASE = 30.0
REGION = ("District", "TownA", "V1")


def report(n: int, terminal: str = "T0001", **vitals: float | int | bool) -> Health:
    return Health(terminal, f"r{n}", T0 - 5, Vitals(**vitals))  # type: ignore[arg-type]


def outbox(db: Database) -> Outbox:
    return Outbox(db, regions=lambda _terminal: REGION)


async def cursors(db: Database) -> dict[str, int]:
    return {r["sink"]: r["after"] for r in await rows(db, "SELECT * FROM feed")}


async def test_a_report_is_owed_through_the_feed_with_the_event_it_always_had(
    db: Database,
) -> None:
    await store(db, report(1, heart_rate_bpm=70, spo2_pct=97.5, fall_detected=False), now=T0)

    assert await rows(db, "SELECT * FROM outbox") == []
    [item] = await outbox(db).claim("webhook", 10, T0, LEASE)

    assert (item.event_id, item.type, item.created_at, item.attempts) == (
        "health:T0001:r1", "health", T0, 0,
    )  # fmt: skip
    assert item.body == {
        "event_id": "health:T0001:r1", "type": "health", "occurred_at": T0, "source": "T0001",
        "region": list(REGION),
        "data": {"terminal_id": "T0001", "report_id": "r1", "ts": T0 - 5,
                 "vitals": {"heart_rate_bpm": 70, "spo2_pct": 97.5, "fall_detected": False}},
    }  # fmt: skip


async def test_alarms_come_before_reports_and_the_alarm_lane_takes_none(db: Database) -> None:
    await store(db, report(1, steps=1), report(2, steps=2), now=T0)
    await store(db, alert("b1"), now=T0 + 1)
    box = outbox(db)

    assert [i.event_id for i in await box.claim("webhook", 10, T0 + 2, LEASE, Priority.ALERT)] == [
        "alert:T0001:b1"
    ]  # fmt: skip
    rest = await box.claim("webhook", 10, T0 + 2, LEASE)
    assert [i.event_id for i in rest] == ["health:T0001:r1", "health:T0001:r2"]
    assert await box.claim("webhook", 10, T0 + 2, LEASE) == []  # leased or handed out
    box = outbox(db)  # a restart
    await box.release_own_leases()
    claimed = await box.claim("webhook", 2, T0 + 2, LEASE)
    assert [i.event_id for i in claimed] == ["alert:T0001:b1", "health:T0001:r1"]
    assert await box.claim("webhook", 10, T0 + 2, LEASE, feed_too=False) == []


async def test_confirm_moves_the_cursor_and_a_restart_starts_from_it(db: Database) -> None:
    await store(db, *[report(n, steps=n) for n in range(1, 6)], now=T0)
    box = outbox(db)
    first = await box.claim("webhook", 2, T0, LEASE)
    second = await box.claim("webhook", 2, T0, LEASE)
    assert await cursors(db) == {"webhook": 0}

    await box.confirm("webhook", second, T0 + 1, advance=True)
    assert await cursors(db) == {"webhook": 0}  # r1, r2 still out
    await box.confirm("webhook", first, T0 + 1, advance=True)
    assert await cursors(db) == {"webhook": 4}

    # killed with r5 handed out and not confirmed: it goes again after the restart
    await box.claim("webhook", 10, T0 + 2, LEASE)
    again = await outbox(db).claim("webhook", 10, T0 + 3, LEASE)
    assert [i.event_id for i in again] == ["health:T0001:r5"]


async def test_a_failed_report_becomes_an_outbox_row_and_the_feed_moves_on(
    db: Database,
) -> None:
    await store(db, *[report(n, steps=n) for n in range(1, 4)], now=T0)
    box = outbox(db)
    one, two, three = await box.claim("webhook", 10, T0, LEASE)
    await box.confirm("webhook", [one], T0 + 1, advance=True)

    await box.settle_failures([Retry(two, T0 + 60, "HTTP 503")], [(three, "HTTP 400")])

    assert await cursors(db) == {"webhook": 3}
    kept = await rows(db, "SELECT event_id, attempts, next_attempt_at, dead, last_error, type"
                          " FROM outbox ORDER BY event_id")  # fmt: skip
    assert kept == [
        {"event_id": "health:T0001:r2", "attempts": 1, "next_attempt_at": T0 + 60, "dead": 0,
         "last_error": "HTTP 503", "type": "health"},
        {"event_id": "health:T0001:r3", "attempts": 1, "next_attempt_at": T0, "dead": 1,
         "last_error": "HTTP 400", "type": "health"},
    ]  # fmt: skip
    assert await box.claim("webhook", 10, T0 + 59, LEASE) == []
    [retried] = await box.claim("webhook", 10, T0 + 60, LEASE)
    assert (retried.event_id, retried.attempts, retried.body) == (two.event_id, 1, two.body)
    [dead] = await box.dead_letters(region=("District", "TownA"))
    assert dead["event_id"] == "health:T0001:r3"


async def test_backlog_and_counts_include_the_reports_past_the_cursor(db: Database) -> None:
    await store(db, report(1, steps=1), now=T0)
    await store(db, report(2, steps=2), now=T0 + 5)
    await store(db, alert("b1"), now=T0 + 7)
    box = outbox(db)

    assert await box.backlog() == {"webhook": (3, T0)}
    assert await box.counts() == {("webhook", False): 3}
    items = await box.claim("webhook", 10, T0 + 8, LEASE)
    await box.confirm("webhook", items[:1], T0 + 9, advance=True)  # b1

    assert await box.backlog() == {"webhook": (2, T0)}
    await box.confirm("webhook", items[1:2], T0 + 9, advance=True)  # r1
    # the cursor moves by whole batches: r1 counts until r2 is settled too
    assert await box.backlog() == {"webhook": (2, T0)}
    await box.confirm("webhook", items[2:], T0 + 9, advance=True)
    assert await box.backlog() == {}


async def test_each_sink_has_its_own_cursor_and_a_new_sink_starts_at_the_newest(
    db: Database,
) -> None:
    await store(db, report(1, steps=1), now=T0)  # only the webhook then
    await store(db, report(2, steps=2), now=T0 + 1, sinks=["webhook", "upstream"])
    box = outbox(db)
    await box.open_feeds(["webhook", "upstream"])

    assert await cursors(db) == {"webhook": 0, "upstream": 1}
    webhook = await box.claim("webhook", 10, T0 + 2, LEASE)
    upstream = await box.claim("upstream", 10, T0 + 2, LEASE)
    assert [i.event_id for i in webhook] == ["health:T0001:r1", "health:T0001:r2"]
    assert [i.event_id for i in upstream] == ["health:T0001:r2"]
    await box.confirm("upstream", upstream, T0 + 3, advance=False)
    assert await cursors(db) == {"webhook": 0, "upstream": 2}


async def test_a_retransmitted_report_is_owed_once(db: Database) -> None:
    await store(db, report(1, steps=1), now=T0)
    box = outbox(db)
    items = await box.claim("webhook", 10, T0, LEASE)
    await box.confirm("webhook", items, T0 + 1, advance=True)

    result = await store(db, report(1, steps=1), now=T0 + 30)

    assert result.new_events == 0
    assert await box.claim("webhook", 10, T0 + 31, LEASE) == []
    assert await box.backlog() == {}


async def test_two_gateways_on_one_file_take_turns_and_send_each_report_once(
    db: Database,
) -> None:
    await store(db, *[report(n, steps=n) for n in range(1, 5)], now=T0)
    one, two = Outbox(db, owner="host-a:1"), Outbox(db, owner="host-b:1")

    first = await one.claim("webhook", 2, T0, LEASE)
    assert await two.claim("webhook", 10, T0, LEASE) == []  # one holds the feed
    await one.confirm("webhook", first, T0 + 1, advance=True)
    renewed = await one.claim("webhook", 1, T0 + LEASE - 1, LEASE)  # half gone: renewed
    assert [i.event_id for i in renewed] == ["health:T0001:r3"]
    assert await two.claim("webhook", 10, T0 + LEASE, LEASE) == []

    # one stops (its lease lapses with r3 out): two goes on from the stored cursor
    taken = await two.claim("webhook", 10, T0 + 3 * LEASE, LEASE)
    assert [i.event_id for i in taken] == ["health:T0001:r3", "health:T0001:r4"]
    await two.confirm("webhook", taken, T0 + 3 * LEASE, advance=True)
    assert await cursors(db) == {"webhook": 4}


async def test_a_restart_frees_the_feed_its_dead_process_held(db: Database) -> None:
    await store(db, report(1, steps=1), now=T0)
    await Outbox(db, owner="host-a:2147483646").claim("webhook", 10, T0, LEASE)  # long gone

    restarted = Outbox(db, owner=f"host-a:{os.getpid()}")
    await restarted.release_own_leases()

    assert [i.event_id for i in await restarted.claim("webhook", 10, T0 + 1, LEASE)] == [
        "health:T0001:r1"
    ]
