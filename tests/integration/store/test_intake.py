"""apply_plan: one commit per batch; retransmissions answered with the current stage."""

from __future__ import annotations

import pytest

from firmware_protocol.messages import AlertKind, Health, Stage, Status, TerminalState, Vitals
from gateway.core.events import Event, Priority
from gateway.core.intake import IntakePlan, plan_intake
from gateway.store.alerts import Advance, AlertStore
from gateway.store.db import Database
from gateway.store.intake import StageUpdate, apply_plan
from gateway.store.outbox import Outbox
from tests.integration.store.helpers import REGISTRY, RULES, T0, alert, rows, store

pytestmark = pytest.mark.integration


async def outbox_ids(db: Database) -> list[str]:
    return [r["event_id"] for r in await rows(db, "SELECT event_id FROM outbox ORDER BY rowid")]


async def owed(db: Database, sink: str = "webhook") -> list[str]:
    """What a forwarder would now take for ``sink``: outbox rows and the health feed."""
    return sorted(item.event_id for item in await Outbox(db).claim(sink, 100, T0, 30))


async def test_new_alert_stores_alert_event_and_outbox_row_and_answers_received(
    db: Database,
) -> None:
    result = await store(db, alert("b1"), now=T0)

    assert result.acks == [StageUpdate("T0001", "b1", Stage.RECEIVED)]
    assert [(r.terminal_id, r.alert_id) for r in result.new_alerts] == [("T0001", "b1")]
    assert result.new_events == 1
    [row] = await rows(db, "SELECT * FROM alerts")
    assert (row["stage"], row["kind"], row["origin"], row["received_at"]) == (
        "received", "emergency", "terminal", T0,
    )  # fmt: skip
    assert (row["district"], row["town"], row["village"]) == ("District", "TownA", "V1")
    assert [r["event_id"] for r in await rows(db, "SELECT event_id FROM events")] == [
        "alert:T0001:b1"
    ]
    assert await outbox_ids(db) == ["alert:T0001:b1"]
    timeline = await rows(db, "SELECT action, actor FROM alert_timeline ORDER BY id")
    assert timeline == [
        {"action": "pressed", "actor": "T0001"},
        {"action": "received", "actor": "gateway"},
    ]


async def test_a_failure_anywhere_in_the_plan_stores_nothing(db: Database) -> None:
    plan = plan_intake([alert("b1")], REGISTRY, RULES, T0)
    unserialisable = Event("bad:1", "alert", Priority.ALERT, T0, "T0001", (), {"x": {1, 2}})
    plan.events.append(unserialisable)

    with pytest.raises(TypeError):
        await apply_plan(db, plan, ["webhook"], T0)

    assert await rows(db, "SELECT * FROM alerts") == []
    assert await rows(db, "SELECT * FROM events") == []
    assert await rows(db, "SELECT * FROM outbox") == []
    assert await rows(db, "SELECT * FROM terminal_state") == []


async def test_one_outbox_row_per_sink(db: Database) -> None:
    await store(db, alert("b1"), sinks=("webhook", "upstream"))

    assert sorted(r["sink"] for r in await rows(db, "SELECT sink FROM outbox")) == [
        "upstream", "webhook",
    ]  # fmt: skip


async def test_retransmission_answers_the_current_stage_with_by_and_eta(db: Database) -> None:
    await store(db, alert("b1"), now=T0)
    await AlertStore(db, ["webhook"]).advance(
        [Advance("T0001", "b1", Stage.ACCEPTED, "Li Wei", eta_s=600)], T0 + 10
    )

    result = await store(db, alert("b1"), now=T0 + 20)

    assert result.acks == [StageUpdate("T0001", "b1", Stage.ACCEPTED, by="Li Wei", eta_s=600)]
    assert result.new_alerts == []
    assert result.new_events == 0


async def test_retransmission_after_delivery_creates_no_second_outbox_row(db: Database) -> None:
    await store(db, alert("b1"), now=T0)
    outbox = Outbox(db)
    [item] = await outbox.claim("webhook", 10, T0, 30)
    await outbox.confirm("webhook", [item], T0 + 1, advance=True)

    result = await store(db, alert("b1"), now=T0 + 60)

    assert result.acks == [StageUpdate("T0001", "b1", Stage.DELIVERED)]
    assert await outbox_ids(db) == []
    assert len(await rows(db, "SELECT * FROM alerts")) == 1


async def test_duplicate_within_one_batch_is_stored_once_and_answered_twice(db: Database) -> None:
    result = await store(db, alert("b1"), alert("b1"))

    assert result.acks == [StageUpdate("T0001", "b1", Stage.RECEIVED)] * 2
    assert len(result.new_alerts) == 1
    assert await outbox_ids(db) == ["alert:T0001:b1"]


async def test_same_alert_id_on_two_terminals_is_two_alerts(db: Database) -> None:
    result = await store(db, alert("b1", "T0001"), alert("b1", "T0002"))

    assert len(result.new_alerts) == 2
    assert sorted(await outbox_ids(db)) == ["alert:T0001:b1", "alert:T0002:b1"]


async def test_cancel_resolves_its_target_and_answers_both(db: Database) -> None:
    await store(db, alert("b1"), now=T0)

    result = await store(db, alert("c1", kind=AlertKind.CANCEL, cancels="b1"), now=T0 + 5)

    assert result.acks == [
        StageUpdate("T0001", "c1", Stage.RECEIVED),
        StageUpdate("T0001", "b1", Stage.RESOLVED, note="cancelled"),
    ]
    [target] = await rows(db, "SELECT stage, stage_rank FROM alerts WHERE alert_id = 'b1'")
    assert target == {"stage": "resolved", "stage_rank": 3}
    [entry] = await rows(db, "SELECT actor, note FROM alert_timeline WHERE action = 'resolved'")
    assert entry == {"actor": "T0001", "note": "cancelled"}
    assert "cancel:T0001:c1" in await outbox_ids(db)


async def test_retransmitted_cancel_gets_only_its_own_ack(db: Database) -> None:
    await store(db, alert("b1"))
    await store(db, alert("c1", kind=AlertKind.CANCEL, cancels="b1"))

    result = await store(db, alert("c1", kind=AlertKind.CANCEL, cancels="b1"))

    assert result.acks == [StageUpdate("T0001", "c1", Stage.RECEIVED)]
    assert len(await rows(db, "SELECT * FROM alert_timeline WHERE action = 'resolved'")) == 1


async def test_cancel_of_a_resolved_or_unknown_alert_resolves_nothing(db: Database) -> None:
    await store(db, alert("b1"))
    await AlertStore(db, []).advance([Advance("T0001", "b1", Stage.RESOLVED, "op")], T0)

    result = await store(
        db,
        alert("c1", kind=AlertKind.CANCEL, cancels="b1"),
        alert("c2", kind=AlertKind.CANCEL, cancels="never-sent"),
    )

    assert result.acks == [
        StageUpdate("T0001", "c1", Stage.RECEIVED),
        StageUpdate("T0001", "c2", Stage.RECEIVED),
    ]


async def test_cancel_only_touches_the_same_terminals_alert(db: Database) -> None:
    await store(db, alert("b1", "T0002"))

    await store(db, alert("c1", "T0001", kind=AlertKind.CANCEL, cancels="b1"))

    [other] = await rows(db, "SELECT stage FROM alerts WHERE terminal_id = 'T0002'")
    assert other["stage"] == "received"


async def test_dangerous_vitals_raise_an_acked_medical_alert(db: Database) -> None:
    report = Health("T0001", "r7", T0 - 3, Vitals(spo2_pct=84.0, heart_rate_bpm=70))

    result = await store(db, report)

    assert result.acks == [StageUpdate("T0001", "v-r7", Stage.RECEIVED)]
    [row] = await rows(db, "SELECT alert_id, kind, origin FROM alerts")
    assert row == {"alert_id": "v-r7", "kind": "medical", "origin": "vitals"}
    assert await outbox_ids(db) == ["alert:T0001:v-r7"]  # the report goes by the feed
    assert await owed(db) == ["alert:T0001:v-r7", "health:T0001:r7"]


async def test_repeated_health_report_is_stored_once(db: Database) -> None:
    report = Health("T0001", "r1", T0 - 3, Vitals(steps=100))

    first = await store(db, report, now=T0)
    again = await store(db, report, now=T0 + 30)

    assert (first.new_events, again.new_events) == (1, 0)
    assert len(await rows(db, "SELECT * FROM health")) == 1
    assert await owed(db) == ["health:T0001:r1"]


async def test_signs_of_life_update_terminal_state(db: Database) -> None:
    await store(db, Status("T0001", TerminalState.ONLINE, None, 90, -60, "1.0"), now=T0)
    await store(db, Health("T0001", "r1", T0, Vitals(steps=1)), now=T0 + 10)
    # an older batch committing late never moves last_seen back
    await store(db, Status("T0001", TerminalState.ONLINE), now=T0 + 5)

    [state] = await rows(db, "SELECT * FROM terminal_state")
    assert state["last_seen"] == T0 + 10
    assert (state["battery_pct"], state["signal_dbm"], state["firmware"]) == (90, -60, "1.0")
    assert state["will_at"] is None


async def test_last_will_is_recorded_and_cleared_by_the_next_message(db: Database) -> None:
    await store(db, Status("T0001", TerminalState.OFFLINE), now=T0)
    [with_will] = await rows(db, "SELECT will_at FROM terminal_state")

    await store(db, alert("b1"), now=T0 + 3)
    [cleared] = await rows(db, "SELECT will_at FROM terminal_state")

    assert with_will["will_at"] == T0
    assert cleared["will_at"] is None


async def test_self_test_records_the_time_and_clears_a_missed_flag(db: Database) -> None:
    await store(db, alert("st1", kind=AlertKind.TEST), now=T0)
    async with db.transaction() as conn:
        await conn.execute("UPDATE terminal_state SET selftest_missed = 1")

    result = await store(db, alert("st2", kind=AlertKind.TEST), now=T0 + 86_400)

    [state] = await rows(db, "SELECT last_selftest_at, selftest_missed FROM terminal_state")
    assert state == {"last_selftest_at": T0 + 86_400, "selftest_missed": 0}
    assert result.acks == [StageUpdate("T0001", "st2", Stage.RECEIVED)]
    assert "selftest:T0001:st2" in await outbox_ids(db)


async def test_empty_plan_is_harmless(db: Database) -> None:
    result = await apply_plan(db, IntakePlan(), ["webhook"], T0)

    assert (result.acks, result.new_alerts, result.new_events) == ([], [], 0)
