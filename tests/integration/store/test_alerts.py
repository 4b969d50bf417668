"""AlertStore: stages only move forward; accepted/resolved become events; reads."""

from __future__ import annotations

import pytest

from firmware_protocol.messages import AlertKind, Stage
from gateway.store.alerts import Advance, AlertStore
from gateway.store.audit import AuditLog
from gateway.store.db import Database
from gateway.store.intake import StageUpdate
from tests.integration.store.helpers import T0, alert, rows, store

pytestmark = pytest.mark.integration


async def stage_of(db: Database, alert_id: str = "b1") -> str:
    [row] = await rows(db, "SELECT stage FROM alerts WHERE alert_id = ?", alert_id)
    return str(row["stage"])


async def event_ids(db: Database) -> list[str]:
    return [
        r["event_id"]
        for r in await rows(db, "SELECT event_id FROM events ORDER BY created_at, event_id")
    ]


@pytest.fixture
async def alerts(db: Database) -> AlertStore:
    await store(db, alert("b1"), now=T0)
    return AlertStore(db, ["webhook"])


async def test_accept_moves_forward_records_by_and_eta_and_emits_an_event(
    db: Database, alerts: AlertStore
) -> None:
    moved = await alerts.advance(
        [Advance("T0001", "b1", Stage.ACCEPTED, "Li Wei", "on my way", 600)], T0 + 10
    )

    assert moved == [StageUpdate("T0001", "b1", Stage.ACCEPTED, "Li Wei", 600, "on my way")]
    [row] = await rows(db, "SELECT stage, accepted_by, eta_s, updated_at FROM alerts")
    assert row == {
        "stage": "accepted",
        "accepted_by": "Li Wei",
        "eta_s": 600,
        "updated_at": T0 + 10,
    }
    [body] = await rows(db, "SELECT body FROM events WHERE event_id = 'stage:T0001:b1:accepted'")
    assert '"type":"alert.accepted"' in body["body"]
    assert "stage:T0001:b1:accepted" in [
        r["event_id"] for r in await rows(db, "SELECT event_id FROM outbox")
    ]


async def test_delivered_is_recorded_but_raises_no_event(db: Database, alerts: AlertStore) -> None:
    before = await event_ids(db)

    moved = await alerts.advance([Advance("T0001", "b1", Stage.DELIVERED, "cc")], T0 + 1)

    assert [u.stage for u in moved] == [Stage.DELIVERED]
    assert await stage_of(db) == "delivered"
    assert await event_ids(db) == before


async def test_stages_never_move_back_or_repeat(db: Database, alerts: AlertStore) -> None:
    await alerts.advance([Advance("T0001", "b1", Stage.ACCEPTED, "Li Wei", eta_s=300)], T0 + 1)

    late_delivery = await alerts.advance([Advance("T0001", "b1", Stage.DELIVERED, "cc")], T0 + 2)
    second_accept = await alerts.advance([Advance("T0001", "b1", Stage.ACCEPTED, "Wang")], T0 + 3)

    assert late_delivery == []
    assert second_accept == []
    [row] = await rows(db, "SELECT stage, accepted_by, eta_s FROM alerts")
    assert row == {"stage": "accepted", "accepted_by": "Li Wei", "eta_s": 300}


async def test_resolve_after_accept_emits_resolved_and_then_nothing_moves(
    db: Database, alerts: AlertStore
) -> None:
    await alerts.advance([Advance("T0001", "b1", Stage.ACCEPTED, "Li Wei")], T0 + 1)

    resolved = await alerts.advance([Advance("T0001", "b1", Stage.RESOLVED, "op", "ok")], T0 + 2)
    after = await alerts.advance([Advance("T0001", "b1", Stage.ACCEPTED, "x")], T0 + 3)

    assert [(u.stage, u.note) for u in resolved] == [(Stage.RESOLVED, "ok")]
    assert after == []
    assert [e for e in await event_ids(db) if e.startswith("stage:")] == [
        "stage:T0001:b1:accepted",
        "stage:T0001:b1:resolved",
    ]


async def test_stages_may_be_skipped(db: Database, alerts: AlertStore) -> None:
    moved = await alerts.advance([Advance("T0001", "b1", Stage.RESOLVED, "op")], T0 + 1)

    assert [u.stage for u in moved] == [Stage.RESOLVED]
    assert await stage_of(db) == "resolved"


async def test_unknown_alert_is_ignored(db: Database, alerts: AlertStore) -> None:
    assert await alerts.advance([Advance("T0001", "nope", Stage.ACCEPTED, "x")], T0) == []


async def test_timeline_records_each_change_in_order(db: Database, alerts: AlertStore) -> None:
    await alerts.advance([Advance("T0001", "b1", Stage.ACCEPTED, "Li Wei", "coming")], T0 + 5)
    assert await alerts.note("T0001", "b1", "assigned", "op1", "doctor: Zhang", T0 + 6)
    assert not await alerts.note("T0001", "nope", "assigned", "op1", None, T0 + 6)

    found = await alerts.get("T0001", "b1")

    assert found is not None
    assert [(t["action"], t["actor"]) for t in found["timeline"]] == [
        ("pressed", "T0001"), ("received", "gateway"), ("accepted", "Li Wei"), ("assigned", "op1"),
    ]  # fmt: skip
    assert found["region"] == ["District", "TownA", "V1"]
    assert await alerts.get("T0001", "nope") is None


async def test_list_filters_open_alerts_and_region_and_hides_tests_and_cancels(
    db: Database, alerts: AlertStore
) -> None:
    await store(db, alert("b2", "T0002"), now=T0 + 1)
    await store(db, alert("st", "T0001", AlertKind.TEST), now=T0 + 2)
    await store(db, alert("c1", "T0002", AlertKind.CANCEL, cancels="b2"), now=T0 + 3)

    everything = await alerts.list(open_only=False)
    still_open = await alerts.list(open_only=True)
    in_town = await alerts.list(open_only=False, region=["District", "TownA", "V1"])
    elsewhere = await alerts.list(open_only=False, region=["District", "TownB"])

    assert [(a["terminal_id"], a["alert_id"]) for a in everything] == [
        ("T0002", "b2"),
        ("T0001", "b1"),
    ]  # fmt: skip  (newest first)
    assert [a["alert_id"] for a in still_open] == ["b1"]  # b2 was cancelled
    assert len(in_town) == 2  # the helper registry puts every terminal in TownA/V1
    assert elsewhere == []


async def test_audit_log_keeps_newest_first_with_detail(db: Database) -> None:
    audit = AuditLog(db)
    await audit.record("op1", "alert.accepted", "T0001/b1", {"eta_s": 60, "名": "张"}, T0)
    await audit.record("op2", "alert.resolved", "T0001/b1", {}, T0 + 1)

    recent = await audit.recent()

    assert [(r["actor"], r["action"], r["at"]) for r in recent] == [
        ("op2", "alert.resolved", T0 + 1), ("op1", "alert.accepted", T0),
    ]  # fmt: skip
    assert recent[1]["detail"] == {"eta_s": 60, "名": "张"}
    assert len(await audit.recent(limit=1)) == 1
