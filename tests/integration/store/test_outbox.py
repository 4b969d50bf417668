"""Outbox: leased claims, alerts first, and the row's life until confirmed."""

from __future__ import annotations

import os

import pytest

from firmware_protocol.messages import AlertKind, Health, Stage, Vitals
from gateway.core.events import Event, Priority
from gateway.store.alerts import Advance, AlertStore
from gateway.store.db import Database
from gateway.store.outbox import Outbox, Retry
from tests.integration.store.helpers import T0, add_events, alert, event, rows, store

pytestmark = pytest.mark.integration

LEASE = 30.0


async def row(db: Database, event_id: str, sink: str = "webhook") -> dict[str, object]:
    [found] = await rows(db, "SELECT * FROM outbox WHERE event_id = ? AND sink = ?", event_id, sink)
    return found


async def test_claim_leases_alerts_before_older_telemetry(db: Database) -> None:
    await add_events(db, [event("status:1", Priority.STATUS, "status")], T0)
    await add_events(db, [event("health:1", Priority.HEALTH, "health")], T0 + 1)
    await add_events(db, [event("offline:1", Priority.SUPERVISION, "terminal.offline")], T0 + 2)
    await add_events(db, [event("alert:1"), event("alert:2")], T0 + 3)
    outbox = Outbox(db, owner="host-a:1")

    first = await outbox.claim("webhook", 1, T0 + 10, LEASE)
    rest = await outbox.claim("webhook", 10, T0 + 10, LEASE)

    assert [i.event_id for i in first] == ["alert:1"]
    assert [i.event_id for i in rest] == ["alert:2", "offline:1", "health:1", "status:1"]
    assert (first[0].body["event_id"], first[0].type) == ("alert:1", "alert")
    assert first[0].body["data"] == {"n": 1}
    assert (first[0].sink, first[0].attempts, first[0].created_at) == ("webhook", 0, T0 + 3)
    leased = await row(db, "alert:1")
    assert (leased["lease_until"], leased["lease_owner"]) == (T0 + 10 + LEASE, "host-a:1")


async def test_leased_row_is_not_claimed_again_before_the_lease_expires(db: Database) -> None:
    await add_events(db, [event("alert:1")], T0)
    mine, theirs = Outbox(db, owner="host-a:1"), Outbox(db, owner="host-b:1")

    claimed = await mine.claim("webhook", 10, T0, LEASE)
    during = await theirs.claim("webhook", 10, T0 + LEASE - 0.001, LEASE)
    after = await theirs.claim("webhook", 10, T0 + LEASE, LEASE)

    assert [i.event_id for i in claimed] == ["alert:1"]
    assert during == []
    assert [i.event_id for i in after] == ["alert:1"]


async def test_rows_of_other_sinks_and_future_rows_are_not_claimed(db: Database) -> None:
    await add_events(db, [event("alert:1")], T0, sinks=["upstream"])
    await add_events(db, [event("alert:2")], T0 + 100)
    outbox = Outbox(db)

    assert await outbox.claim("webhook", 10, T0 + 50, LEASE) == []
    assert [i.event_id for i in await outbox.claim("upstream", 10, T0 + 50, LEASE)] == ["alert:1"]


async def test_release_own_leases_frees_this_hosts_rows_only(db: Database) -> None:
    await add_events(db, [event("alert:1"), event("alert:2")], T0)
    await Outbox(db, owner="host-a:100").claim("webhook", 1, T0, LEASE)
    await Outbox(db, owner="host-b:7").claim("webhook", 1, T0, LEASE)

    restarted = Outbox(db, owner="host-a:200")
    await restarted.release_own_leases()

    assert [i.event_id for i in await restarted.claim("webhook", 10, T0 + 1, LEASE)] == ["alert:1"]
    assert (await row(db, "alert:2"))["lease_owner"] == "host-b:7"


async def test_release_own_leases_keeps_a_live_siblings_lease(db: Database) -> None:
    """Two gateways on one host: a restart must not steal the running one's deliveries."""
    await add_events(db, [event("alert:1"), event("alert:2")], T0)
    sibling = os.getppid()  # a process that is certainly alive: whoever started pytest
    await Outbox(db, owner=f"host-a:{sibling}").claim("webhook", 1, T0, LEASE)
    await Outbox(db, owner="host-a:2147483646").claim("webhook", 1, T0, LEASE)  # long gone

    restarted = Outbox(db, owner=f"host-a:{os.getpid()}")
    await restarted.release_own_leases()

    claimed = await restarted.claim("webhook", 10, T0 + 1, LEASE)
    assert [i.event_id for i in claimed] == ["alert:2"]
    assert (await row(db, "alert:1"))["lease_owner"] == f"host-a:{sibling}"


async def test_confirm_removes_only_that_sinks_rows(db: Database) -> None:
    await add_events(db, [event("alert:1"), event("alert:2")], T0, sinks=["webhook", "upstream"])
    outbox = Outbox(db)
    [first, _] = await outbox.claim("webhook", 10, T0, LEASE)

    assert await outbox.confirm("webhook", [first], T0, advance=False) == []
    assert await outbox.confirm("webhook", [], T0, advance=True) == []

    remaining = await rows(db, "SELECT event_id, sink FROM outbox ORDER BY event_id, sink")
    assert remaining == [
        {"event_id": "alert:1", "sink": "upstream"},
        {"event_id": "alert:2", "sink": "upstream"},
        {"event_id": "alert:2", "sink": "webhook"},
    ]
    assert await rows(db, "SELECT event_id FROM events WHERE event_id = 'alert:1'") != []


async def test_reschedule_counts_the_attempt_and_waits_until_then(db: Database) -> None:
    await add_events(db, [event("alert:1")], T0)
    outbox = Outbox(db)
    [item] = await outbox.claim("webhook", 10, T0, LEASE)

    await outbox.settle_failures([Retry(item, T0 + 8, "HTTP 503")], [])

    stored = await row(db, "alert:1")
    assert (stored["attempts"], stored["next_attempt_at"], stored["last_error"]) == (
        1, T0 + 8, "HTTP 503",
    )  # fmt: skip
    assert (stored["lease_until"], stored["lease_owner"]) == (0, None)
    assert await outbox.claim("webhook", 10, T0 + 7.9, LEASE) == []
    [again] = await outbox.claim("webhook", 10, T0 + 8, LEASE)
    assert again.attempts == 1


async def test_long_errors_are_truncated(db: Database) -> None:
    await add_events(db, [event("alert:1")], T0)
    outbox = Outbox(db)
    [item] = await outbox.claim("webhook", 10, T0, LEASE)

    await outbox.settle_failures([Retry(item, T0 + 1, "x" * 10_000)], [])

    assert len(str((await row(db, "alert:1"))["last_error"])) == 500


async def test_dead_letter_is_kept_listed_and_never_claimed(db: Database) -> None:
    await add_events(db, [event("alert:1"), event("alert:2")], T0)
    outbox = Outbox(db)
    [item, _] = await outbox.claim("webhook", 10, T0, LEASE)

    await outbox.settle_failures([], [(item, "HTTP 400")])

    later = await outbox.claim("webhook", 10, T0 + 100 * LEASE, LEASE)
    assert [i.event_id for i in later] == ["alert:2"]
    [dead] = await outbox.dead_letters()
    assert (dead["event_id"], dead["sink"], dead["attempts"], dead["last_error"]) == (
        "alert:1", "webhook", 1, "HTTP 400",
    )  # fmt: skip
    assert await outbox.counts() == {("webhook", True): 1, ("webhook", False): 1}


async def test_retry_dead_puts_the_row_back_in_line_now(db: Database) -> None:
    await add_events(db, [event("alert:1")], T0)
    outbox = Outbox(db)
    [item] = await outbox.claim("webhook", 10, T0, LEASE)
    await outbox.settle_failures([], [(item, "HTTP 400")])

    assert await outbox.retry_dead("webhook", "alert:1", T0 + 500) is True
    assert await outbox.retry_dead("webhook", "alert:1", T0 + 500) is False  # no longer dead
    assert await outbox.retry_dead("webhook", "no-such-event", T0 + 500) is False

    [again] = await outbox.claim("webhook", 10, T0 + 500, LEASE)
    assert (again.event_id, again.created_at) == ("alert:1", T0 + 500)
    assert await outbox.dead_letters() == []


async def test_expedite_makes_backed_off_rows_due_now_but_not_dead_ones(db: Database) -> None:
    await add_events(db, [event("alert:1"), event("alert:2"), event("alert:3")], T0)
    outbox = Outbox(db)
    one, two, three = await outbox.claim("webhook", 10, T0, LEASE)
    retries = [Retry(one, T0 + 300, "HTTP 503"), Retry(two, T0 + 600, "HTTP 503")]
    await outbox.settle_failures(retries, [(three, "HTTP 400")])

    await outbox.expedite("webhook", T0 + 5)

    assert await outbox.next_due("webhook") == T0 + 5
    assert [i.event_id for i in await outbox.claim("webhook", 10, T0 + 5, LEASE)] == [
        "alert:1",
        "alert:2",
    ]


async def test_next_due_accounts_for_leases(db: Database) -> None:
    outbox = Outbox(db)
    assert await outbox.next_due("webhook") is None

    await add_events(db, [event("alert:1")], T0)
    assert await outbox.next_due("webhook") == T0

    await outbox.claim("webhook", 10, T0, LEASE)
    assert await outbox.next_due("webhook") == T0 + LEASE


async def test_confirm_moves_confirmed_alarms_to_delivered_in_the_same_commit(
    db: Database,
) -> None:
    await store(db, alert("b1"), alert("b2"), Health("T0001", "r1", T0, Vitals(spo2_pct=80.0)))
    await store(db, alert("st", kind=AlertKind.TEST))
    await AlertStore(db, ["webhook"]).advance([Advance("T0001", "b2", Stage.ACCEPTED, "op")], T0)
    outbox = Outbox(db)
    items = await outbox.claim("webhook", 100, T0 + 1, LEASE)
    assert {i.type for i in items} >= {"alert", "health", "selftest", "alert.accepted"}

    moved = await outbox.confirm("webhook", items, T0 + 2, advance=True)

    # b2 is already accepted: "delivered" would move it back, so it is not told
    assert [(u.alert_id, u.stage) for u in moved] == [
        ("b1", Stage.DELIVERED),
        ("v-r1", Stage.DELIVERED),
    ]
    stages = {r["alert_id"]: r["stage"] for r in await rows(db, "SELECT * FROM alerts")}
    assert stages == {"b1": "delivered", "b2": "accepted", "v-r1": "delivered", "st": "received"}
    assert await rows(db, "SELECT * FROM outbox") == []
    # A delivered health report's event is not kept (the report is, in `health`) …
    kept = {r["type"] for r in await rows(db, "SELECT type FROM events")}
    assert "health" not in kept
    assert len(await rows(db, "SELECT * FROM health")) == 1
    # … and a retransmission of it is absorbed: stored once, forwarded once.
    await store(db, Health("T0001", "r1", T0, Vitals(spo2_pct=80.0)), now=T0 + 3)
    assert await rows(db, "SELECT * FROM outbox") == []


async def test_confirm_by_a_sink_that_does_not_speak_for_terminals_moves_no_alarm(
    db: Database,
) -> None:
    await store(db, alert("b1"))
    outbox = Outbox(db)
    items = await outbox.claim("webhook", 10, T0, LEASE)

    assert await outbox.confirm("webhook", items, T0 + 1, advance=False) == []
    [alarm] = await rows(db, "SELECT stage FROM alerts")
    assert alarm["stage"] == "received"


async def test_a_health_event_still_owed_to_another_sink_is_kept(db: Database) -> None:
    await store(db, Health("T0001", "r1", T0, Vitals(heart_rate_bpm=70)), sinks=["webhook", "up"])
    outbox = Outbox(db)
    items = await outbox.claim("webhook", 10, T0, LEASE)

    await outbox.confirm("webhook", items, T0 + 1, advance=True)

    [owed] = await outbox.claim("up", 10, T0 + 1, LEASE)
    assert owed.type == "health"
    assert owed.body["data"]["vitals"] == {"heart_rate_bpm": 70}
    await outbox.confirm("up", [owed], T0 + 2, advance=False)
    assert await rows(db, "SELECT * FROM outbox") == []
    assert await rows(db, "SELECT * FROM events") == []


async def test_dead_letters_in_a_region_include_health_reports_kept_in_the_outbox(
    db: Database,
) -> None:
    health = Event("health:T0001:r1", "health", Priority.HEALTH, T0, "T0001",
                   ("District", "TownA", "V1"), {"vitals": {}})  # fmt: skip
    elsewhere = Event("alert:2", "alert", Priority.ALERT, T0, "T0002",
                      ("District", "TownB", "V9"), {})  # fmt: skip
    await add_events(db, [event("alert:1"), health, elsewhere], T0)
    outbox = Outbox(db)
    items = await outbox.claim("webhook", 10, T0, LEASE)
    await outbox.settle_failures([], [(item, "HTTP 400") for item in items])

    town_a = await outbox.dead_letters(region=("District", "TownA"))
    assert sorted(d["event_id"] for d in town_a) == ["alert:1", "health:T0001:r1"]
    assert [d["event_id"] for d in await outbox.dead_letters(region=("District", "TownB"))] == [
        "alert:2"
    ]
    town_b, town_a_scope = ("District", "TownB"), ("District", "TownA")
    assert not await outbox.retry_dead("webhook", "health:T0001:r1", T0 + 1, town_b)
    assert await outbox.retry_dead("webhook", "health:T0001:r1", T0 + 1, town_a_scope)
