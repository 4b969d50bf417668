"""Call sequences on a real SQLite file: each step one commit with its events; restarts,
crashes and a second process never notify a responder twice for the same attempt."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from firmware_protocol.messages import AlertKind, Stage
from gateway.console.config import ConsoleConfig
from gateway.core import dispatch as core
from gateway.core.dispatch import Responder
from gateway.core.elders import Contact, ElderRecord
from gateway.dispatch.config import DispatchConfig
from gateway.dispatch.wiring import DispatchParts, dispatch_parts
from gateway.operations import Actor
from gateway.store import dispatch as dispatch_store
from gateway.store.alerts import Advance, AlertStore
from gateway.store.audit import AuditLog
from gateway.store.db import Database, open_database, prepare
from gateway.store.elders import ElderStore
from tests.integration.store.helpers import (
    REGISTRY,
    T0,
    FakeAcks,
    FakeClock,
    alert,
    rows,
    sample,
    store,
)

pytestmark = pytest.mark.integration

OPERATOR = Actor("op-zhang", "operator", ())
CONTACTS = (
    Contact("李娜", "relative", "13800000011"),
    Contact("王强", "neighbour", "13800000012"),
    Contact("赵明", "grid_worker", "13800000013"),
)
RECORD = ElderRecord(
    "T0001", address="幸福路 12 号 3 单元 401", access="钥匙盒在门左侧, 密码 4711",
    medical="糖尿病, 青霉素过敏", language="杭州话", lives_alone=True, contacts=CONTACTS,
)  # fmt: skip
CONFIG = DispatchConfig(answer_timeout_s=30, rounds=2)


def parts(db: Database, acks: FakeAcks, clock: FakeClock, **changes: Any) -> DispatchParts:
    cfg = CONFIG.model_copy(update=changes)
    return dispatch_parts(
        cfg, AlertStore(db, ["webhook"]), REGISTRY, AuditLog(db), acks, lambda: None,
        ConsoleConfig().escalation_rules(), clock,
    )  # fmt: skip


async def events(db: Database, kind: str) -> list[dict[str, Any]]:
    found = await rows(db, "SELECT body FROM events WHERE type = ? ORDER BY created_at", kind)
    return [json.loads(r["body"]) for r in found]


async def tokens(db: Database) -> dict[int, str]:
    return {e["data"]["attempt"]: e["data"]["answer"]["token"]
            for e in await events(db, "alert.dispatch")}  # fmt: skip


async def timeline(db: Database, alert_id: str = "b1") -> list[tuple[str, str | None]]:
    found = await rows(
        db, "SELECT action, note FROM alert_timeline WHERE alert_id = ? ORDER BY at, id", alert_id
    )
    return [(r["action"], r["note"]) for r in found]


async def test_decline_silence_accept_tells_the_terminal_the_third_name(
    db: Database, clock: FakeClock
) -> None:
    await ElderStore(db).put(RECORD, "admin", T0 - 100)
    await store(db, alert("b1"), now=T0)
    acks = FakeAcks()
    p = parts(db, acks, clock)
    assert p.dispatcher is not None
    clock.now = T0 + 0.5

    await p.dispatcher.sweep()
    first = (await events(db, "alert.dispatch"))[0]
    assert first["event_id"] == "dispatch:T0001:b1:1"
    assert first["data"]["responder"] == {
        "name": "李娜",
        "phone": "13800000011",
        "role": "relative",
    }
    assert first["data"]["brief"]["address"] == RECORD.address
    assert first["data"]["brief"]["medical"] == RECORD.medical
    assert "access" not in first["data"]["brief"]  # only for whoever accepts

    declined = await p.desk.answer((await tokens(db))[1], accept=False, eta_s=None)
    assert declined is not None
    assert declined.refused is None
    clock.advance(31)
    await p.dispatcher.sweep()  # 王强 never answers
    third = (await tokens(db))[3]
    accepted = await p.desk.answer(third, accept=True, eta_s=480)

    assert accepted is not None
    assert accepted.refused is None
    assert [(u.stage, u.by, u.eta_s) for u in acks.updates] == [(Stage.ACCEPTED, "赵明", 480)]
    view = await p.desk.sequences.view("T0001", "b1")
    assert view is not None
    assert view["status"] == "accepted"
    assert [(a["name"], a["outcome"]) for a in view["attempts"]] == [
        ("李娜", "declined"), ("王强", "no_answer"), ("赵明", "accepted"),
    ]  # fmt: skip
    assert [a for a, _ in await timeline(db)] == [
        "pressed", "received", "dispatch.notified", "dispatch.declined", "dispatch.notified",
        "dispatch.no_answer", "dispatch.notified", "accepted",
    ]  # fmt: skip
    confirmation = (await events(db, "alert.dispatch.accepted"))[0]
    assert confirmation["data"]["brief"]["access"] == RECORD.access
    assert (await events(db, "alert.accepted"))[0]["data"]["by"] == "赵明"
    audit = await rows(db, "SELECT actor, action, target FROM audit_log")
    assert {"actor": "dispatch", "action": "elder.access_sent", "target": "T0001"} in audit
    outbox = await rows(db, "SELECT event_id FROM outbox WHERE sink = 'webhook'")
    assert {"dispatch:T0001:b1:1", "dispatch:T0001:b1:2", "dispatch:T0001:b1:3"} <= {
        r["event_id"] for r in outbox
    }


async def test_a_token_is_good_for_one_answer(db: Database, clock: FakeClock) -> None:
    await ElderStore(db).put(RECORD, "admin", T0)
    await store(db, alert("b1"), now=T0)
    p = parts(db, FakeAcks(), clock)
    assert p.dispatcher is not None
    await p.dispatcher.sweep()
    token = (await tokens(db))[1]

    assert await p.desk.answer("not-a-token", accept=True, eta_s=None) is None
    first = await p.desk.answer(token, accept=False, eta_s=None)
    again = await p.desk.answer(token, accept=True, eta_s=None)
    assert first is not None
    assert again is not None
    assert first.refused is None
    assert again.refused is not None


async def test_a_responder_who_missed_the_window_may_still_accept(
    db: Database, clock: FakeClock
) -> None:
    await ElderStore(db).put(RECORD, "admin", T0)
    await store(db, alert("b1"), now=T0)
    acks = FakeAcks()
    p = parts(db, acks, clock)
    assert p.dispatcher is not None
    await p.dispatcher.sweep()
    clock.advance(31)
    await p.dispatcher.sweep()

    late = await p.desk.answer((await tokens(db))[1], accept=True, eta_s=300)

    assert late is not None
    assert late.refused is None
    assert acks.updates[-1].by == "李娜"
    stand_down = await events(db, "alert.dispatch.cancelled")
    assert [(e["data"]["attempt"], e["data"]["reason"]) for e in stand_down] == [(2, "superseded")]


async def test_nobody_accepting_escalates_one_level_and_forwards_it(
    db: Database, clock: FakeClock
) -> None:
    await ElderStore(db).put(ElderRecord("T0001", contacts=CONTACTS[:1]), "admin", T0)
    await store(db, alert("b1"), now=T0)
    p = parts(db, FakeAcks(), clock, rounds=2)
    assert p.dispatcher is not None
    for _ in range(3):
        await p.dispatcher.sweep()
        clock.advance(31)

    level = await rows(db, "SELECT escalation_level FROM alerts WHERE alert_id = 'b1'")
    assert level == [{"escalation_level": 1}]
    escalated = await events(db, "alert.escalated")
    assert [(e["event_id"], e["data"]["to"]) for e in escalated] == [
        ("escalated:T0001:b1:1", "town")
    ]
    assert ("dispatch.exhausted", "rounds: 2") in await timeline(db)
    assert len(await tokens(db)) == 2


async def test_an_elder_without_contacts_escalates_at_once(db: Database, clock: FakeClock) -> None:
    await ElderStore(db).put(ElderRecord("T0001", address="x"), "admin", T0)
    await store(db, alert("b1"), now=T0)
    p = parts(db, FakeAcks(), clock)
    assert p.dispatcher is not None

    await p.dispatcher.sweep()

    assert [e["data"]["level"] for e in await events(db, "alert.escalated")] == [1]
    assert await tokens(db) == {}


async def test_an_elder_without_a_record_is_left_to_operators(
    db: Database, clock: FakeClock
) -> None:
    await store(db, alert("b1"), now=T0)
    p = parts(db, FakeAcks(), clock)
    assert p.dispatcher is not None

    await p.dispatcher.sweep()
    assert await events(db, "alert.escalated") == []
    helper = Responder("社区服务站", "0571-88888888", "service_station")
    called = await p.desk.control(OPERATOR, "T0001", "b1", core.Reassign(OPERATOR.name, helper))
    assert called.state is not None
    assert called.state.status is core.Status.CALLING
    clock.advance(31)
    await p.dispatcher.sweep()

    view = await p.desk.sequences.view("T0001", "b1")
    assert view is not None
    assert view["status"] == "idle"
    assert await events(db, "alert.escalated") == []


async def test_an_operator_accepting_ends_the_sequence_and_stands_the_responder_down(
    db: Database, clock: FakeClock
) -> None:
    await ElderStore(db).put(RECORD, "admin", T0)
    await store(db, alert("b1"), now=T0)
    p = parts(db, FakeAcks(), clock)
    assert p.dispatcher is not None
    await p.dispatcher.sweep()
    await AlertStore(db, ["webhook"]).advance(
        [Advance("T0001", "b1", Stage.ACCEPTED, "op-zhang")], clock()
    )

    await p.dispatcher.sweep()
    clock.advance(100)
    await p.dispatcher.sweep()

    view = await p.desk.sequences.view("T0001", "b1")
    assert view is not None
    assert view["status"] == "closed"
    assert len(await tokens(db)) == 1
    assert [e["data"]["reason"] for e in await events(db, "alert.dispatch.cancelled")] == ["closed"]


async def test_operators_skip_reassign_and_take_over(db: Database, clock: FakeClock) -> None:
    await ElderStore(db).put(RECORD, "admin", T0)
    await store(db, alert("b1"), now=T0)
    p = parts(db, FakeAcks(), clock)
    assert p.dispatcher is not None
    await p.dispatcher.sweep()

    await p.desk.control(OPERATOR, "T0001", "b1", core.Skip(OPERATOR.name))
    helper = Responder("社区服务站", "0571-88888888", "service_station")
    await p.desk.control(OPERATOR, "T0001", "b1", core.Reassign(OPERATOR.name, helper))
    taken = await p.desk.control(OPERATOR, "T0001", "b1", core.TakeOver(OPERATOR.name))

    assert taken.state is not None
    assert taken.state.status is core.Status.TAKEN_OVER
    names = [e["data"]["responder"]["name"] for e in await events(db, "alert.dispatch")]
    assert names == ["李娜", "王强", "社区服务站"]
    audit = [r["action"] for r in await rows(db, "SELECT action FROM audit_log ORDER BY id")]
    assert audit[-3:] == ["dispatch.skip", "dispatch.reassign", "dispatch.takeover"]


async def test_a_crash_inside_a_step_leaves_nothing_and_the_next_sweep_notifies_once(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ElderStore(db).put(RECORD, "admin", T0)
    await store(db, alert("b1"), now=T0)
    p = parts(db, FakeAcks(), clock)
    assert p.dispatcher is not None

    async def power_cut(*args: object, **kwargs: object) -> list[object]:
        raise OSError("power cut")

    monkeypatch.setattr(dispatch_store, "insert_events", power_cut)
    with pytest.raises(OSError, match="power cut"):
        await p.dispatcher.sweep()
    assert await rows(db, "SELECT * FROM dispatch_attempts") == []
    assert await rows(db, "SELECT * FROM dispatches") == []
    monkeypatch.undo()

    await p.dispatcher.sweep()
    await p.dispatcher.sweep()
    assert list(await tokens(db)) == [1]


async def test_two_processes_on_one_file_notify_each_attempt_once(
    tmp_path: Path, db: Database, clock: FakeClock
) -> None:
    await ElderStore(db).put(RECORD, "admin", T0)
    for n in range(5):
        await store(db, alert(f"b{n}", kind=AlertKind.EMERGENCY), now=T0)
    async with open_database(db_path(tmp_path)) as other:
        first = parts(db, FakeAcks(), clock)
        second = parts(other, FakeAcks(), clock)
        assert first.dispatcher is not None
        assert second.dispatcher is not None
        for _ in range(4):
            await first.dispatcher.sweep()
            await second.dispatcher.sweep()
            clock.advance(31)

    ids = [e["event_id"] for e in await events(db, "alert.dispatch")]
    assert len(ids) == len(set(ids)) == 5 * 4
    attempts = await rows(db, "SELECT alert_id, attempt FROM dispatch_attempts")
    assert len(attempts) == 20


def db_path(tmp_path: Path) -> Path:
    return tmp_path / "var" / "gateway.db"


STAGE_COUNT = "gateway_alert_stage_seconds_count"


async def test_stage_times_are_observed_once_per_committed_move(
    db: Database, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ElderStore(db).put(RECORD, "admin", T0)
    await store(db, alert("b1", kind=AlertKind.MEDICAL), now=T0)
    p = parts(db, FakeAcks(), clock)
    assert p.dispatcher is not None
    await p.dispatcher.sweep()
    before = sample(STAGE_COUNT, kind="medical", stage="accepted")
    under_60 = sample(
        "gateway_alert_stage_seconds_bucket", kind="medical", stage="accepted", le="60.0"
    )

    async def power_cut(*args: object, **kwargs: object) -> list[object]:
        raise OSError("power cut")

    monkeypatch.setattr(dispatch_store, "audit_in", power_cut)
    clock.now = T0 + 12
    with pytest.raises(OSError, match="power cut"):
        await p.desk.answer((await tokens(db))[1], accept=True, eta_s=None)
    assert sample(STAGE_COUNT, kind="medical", stage="accepted") == before  # rolled back
    monkeypatch.undo()
    await p.desk.answer((await tokens(db))[1], accept=True, eta_s=None)

    assert sample(STAGE_COUNT, kind="medical", stage="accepted") == before + 1
    assert (
        sample("gateway_alert_stage_seconds_bucket", kind="medical", stage="accepted", le="60.0")
        == under_60 + 1
    )


def test_the_worker_queries_use_their_indexes(tmp_path: Path) -> None:
    """The sweeps run twice a second on a file holding months of alarms."""
    prepare(tmp_path / "plan.db")
    conn = sqlite3.connect(tmp_path / "plan.db")
    plans = [
        " ".join(r[3] for r in conn.execute("EXPLAIN QUERY PLAN " + query, params))
        for query, params in ((dispatch_store.SETTLED_SQL, (1,)), (dispatch_store.DUE_SQL, (1, 1)))
    ]
    conn.close()
    assert plans[0].startswith("SCAN d USING INDEX dispatches_active")
    assert "dispatches_due" in plans[1]
    assert {f"'{s.value}'" for s in core.ACTIVE} == set(dispatch_store.ACTIVE_SQL.split(", "))
