"""Outbox: leased claims, alerts first, and the row's life until confirmed."""

from __future__ import annotations

import os

import pytest

from gateway.core.events import Priority
from gateway.store.db import Database
from gateway.store.outbox import Outbox
from tests.integration.store.helpers import T0, add_events, event, rows

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
    assert first[0].body["event_id"] == "alert:1"
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


async def test_mark_delivered_removes_only_that_sinks_rows(db: Database) -> None:
    await add_events(db, [event("alert:1"), event("alert:2")], T0, sinks=["webhook", "upstream"])
    outbox = Outbox(db)

    await outbox.mark_delivered("webhook", ["alert:1"])
    await outbox.mark_delivered("webhook", [])

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

    await outbox.reschedule(item, T0 + 8, "HTTP 503")

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

    await outbox.reschedule(item, T0 + 1, "x" * 10_000)

    assert len(str((await row(db, "alert:1"))["last_error"])) == 500


async def test_dead_letter_is_kept_listed_and_never_claimed(db: Database) -> None:
    await add_events(db, [event("alert:1"), event("alert:2")], T0)
    outbox = Outbox(db)
    [item, _] = await outbox.claim("webhook", 10, T0, LEASE)

    await outbox.dead_letter(item, "HTTP 400")

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
    await outbox.dead_letter(item, "HTTP 400")

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
    await outbox.reschedule(one, T0 + 300, "HTTP 503")
    await outbox.reschedule(two, T0 + 600, "HTTP 503")
    await outbox.dead_letter(three, "HTTP 400")

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
