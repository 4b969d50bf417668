"""Apply an :class:`~gateway.core.intake.IntakePlan` in one transaction.

Returns, for every alert message of the batch, the stage to answer with: ``received``
for a new alert, the current stage for a retransmission. The caller sends acks only
after this returns, i.e. after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from firmware_protocol.messages import Stage, TerminalState
from gateway.core.events import Event, compact_json
from gateway.core.intake import AlertRow, Cancel, IntakePlan, Seen
from gateway.store import feed
from gateway.store.db import Database
from gateway.store.direct import Conn, Direct
from gateway.store.events import insert_events
from gateway.store.health import insert_reports


@dataclass(frozen=True, slots=True)
class StageUpdate:
    """An alert's stage to tell its terminal."""

    terminal_id: str
    alert_id: str
    stage: Stage
    by: str | None = None
    eta_s: int | None = None
    note: str | None = None


@dataclass(slots=True)
class IntakeResult:
    acks: list[StageUpdate]
    new_alerts: list[AlertRow]
    new_events: int
    #: The most urgent priority among the new events (None: no new events).
    urgent: int | None = None


def stages_query(count: int) -> str:
    """The current stage of ``count`` alerts, given as (terminal_id, alert_id) pairs.

    A join on the keys, not "(…) IN (VALUES …)": SQLite scans the whole table for a
    row-value IN list, but looks each key up when the keys are a table.
    """
    values = ",".join("(?,?)" for _ in range(count))
    return (
        "SELECT terminal_id, alert_id, stage, accepted_by, eta_s"
        f" FROM (VALUES {values}) AS k"
        " JOIN alerts ON alerts.terminal_id = k.column1 AND alerts.alert_id = k.column2"
    )


async def _current_stages(
    conn: Conn, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], aiosqlite.Row]:
    found: dict[tuple[str, str], aiosqlite.Row] = {}
    for start in range(0, len(keys), 400):
        chunk = keys[start : start + 400]
        query = stages_query(len(chunk))
        rows = await conn.execute_fetchall(query, [part for key in chunk for part in key])
        found.update({(row["terminal_id"], row["alert_id"]): row for row in rows})
    return found


async def _insert_alerts(conn: Conn, rows: Sequence[AlertRow]) -> None:
    await conn.executemany(
        "INSERT OR IGNORE INTO alerts (terminal_id, alert_id, kind, origin, pressed_at,"
        " received_at, district, town, village, detail, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (r.terminal_id, r.alert_id, r.kind, r.origin, r.pressed_at, r.received_at,
             *r.region[:3], compact_json(dict(r.detail)), r.received_at)
            for r in rows
        ],
    )  # fmt: skip
    await conn.executemany(
        "INSERT INTO alert_timeline (terminal_id, alert_id, action, at, actor) VALUES (?,?,?,?,?)",
        [
            item
            for r in rows
            for item in (
                (r.terminal_id, r.alert_id, "pressed", r.pressed_at, r.terminal_id),
                (r.terminal_id, r.alert_id, "received", r.received_at, "gateway"),
            )
        ],
    )


async def _apply_cancels(conn: Conn, cancels: Sequence[Cancel], now: float) -> list[StageUpdate]:
    resolved = []
    for cancel in cancels:
        cursor = await conn.execute(
            "UPDATE alerts SET stage = 'resolved', stage_rank = 3, updated_at = ?"
            " WHERE terminal_id = ? AND alert_id = ? AND stage_rank < 3",
            (now, cancel.terminal_id, cancel.target_id),
        )
        if cursor.rowcount:
            await conn.execute(
                "INSERT INTO alert_timeline (terminal_id, alert_id, action, at, actor, note)"
                " VALUES (?, ?, 'resolved', ?, ?, 'cancelled')",
                (cancel.terminal_id, cancel.target_id, now, cancel.terminal_id),
            )
            resolved.append(
                StageUpdate(cancel.terminal_id, cancel.target_id, Stage.RESOLVED, note="cancelled")
            )
    return resolved


def _row(s: Seen, prior: tuple[Any, ...] | None) -> tuple[Any, ...]:
    """One terminal's upsert values, folding in an earlier sign of life from the batch."""
    will_at = s.at if s.state is TerminalState.OFFLINE else None
    row = (s.terminal_id, s.at, will_at, s.battery_pct, s.signal_dbm, s.firmware,
           s.at if s.selftest else None)  # fmt: skip
    if prior is None:
        return row
    # Later values win; a value the later message did not carry keeps the earlier one.
    kept = (new if new is not None else old for new, old in zip(row[3:], prior[3:], strict=True))
    return (*row[:3], *kept)


#: What a terminal's status (or any message) writes: its row of ``terminal_state``, with
#: ``(terminal_id, last_seen, will_at, battery_pct, signal_dbm, firmware,
#: last_selftest_at)``; the bulk of the district's writes (``bench/store_pages.py``).
SEEN_UPSERT = (
    "INSERT INTO terminal_state (terminal_id, last_seen, will_at, battery_pct, signal_dbm,"
    " firmware, last_selftest_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (terminal_id) DO UPDATE SET"
    " last_seen = max(last_seen, excluded.last_seen),"
    " will_at = excluded.will_at,"
    " battery_pct = coalesce(excluded.battery_pct, battery_pct),"
    " signal_dbm = coalesce(excluded.signal_dbm, signal_dbm),"
    " firmware = coalesce(excluded.firmware, firmware),"
    " last_selftest_at = coalesce(excluded.last_selftest_at, last_selftest_at),"
    " selftest_missed = CASE WHEN excluded.last_selftest_at IS NULL"
    "   THEN selftest_missed ELSE 0 END"
)


async def _record_seen(conn: Conn, seen: Sequence[Seen]) -> None:
    # One row per terminal and batch: a busy batch holds many messages of few terminals.
    rows: dict[str, tuple[Any, ...]] = {}
    for s in seen:
        rows[s.terminal_id] = _row(s, rows.get(s.terminal_id))
    await conn.executemany(SEEN_UPSERT, list(rows.values()))


def _answers(plan: IntakePlan, before: dict[tuple[str, str], aiosqlite.Row]) -> list[StageUpdate]:
    acks = []
    for row in plan.alerts:
        current = before.get((row.terminal_id, row.alert_id))
        if current is None:
            acks.append(StageUpdate(row.terminal_id, row.alert_id, Stage.RECEIVED))
        else:
            acks.append(
                StageUpdate(row.terminal_id, row.alert_id, Stage(current["stage"]),
                            by=current["accepted_by"], eta_s=current["eta_s"])
            )  # fmt: skip
    return acks


#: What a plan's transaction found and did: the alerts' stages before it, the new alerts,
#: the cancellations it applied, the new events.
_Applied = tuple[
    dict[tuple[str, str], aiosqlite.Row], list[AlertRow], list[StageUpdate], list[Event]
]


async def apply_plan(
    db: Database, plan: IntakePlan, sinks: Sequence[str], now: float
) -> IntakeResult:
    """Store everything in ``plan`` atomically and say what to answer."""
    alarms = bool(plan.alerts)

    async def body(conn: Direct) -> _Applied:
        keys = list(dict.fromkeys((r.terminal_id, r.alert_id) for r in plan.alerts))
        before = await _current_stages(conn, keys) if keys else {}
        new_alerts = list(
            {(r.terminal_id, r.alert_id): r for r in plan.alerts if
             (r.terminal_id, r.alert_id) not in before}.values()
        )  # fmt: skip
        if new_alerts:
            await _insert_alerts(conn, new_alerts)
        if plan.health and sinks:
            await feed.ensure(conn, sinks)
        repeated = await insert_reports(conn, plan.health) if plan.health else set()
        if plan.seen:
            await _record_seen(conn, plan.seen)
        fresh_cancels = [c for c in plan.cancels if (c.terminal_id, c.cancel_id) not in before]
        resolved = await _apply_cancels(conn, fresh_cancels, now) if fresh_cancels else []
        # A new report's event is owed to the sinks through the health feed.
        reported = [e for e in plan.events if e.type == "health" and e.event_id not in repeated]
        events = [e for e in plan.events if e.type != "health"]
        fresh = await insert_events(conn, events, sinks, now)
        return before, new_alerts, resolved, fresh + (reported if sinks else [])

    name = "intake_alerts" if alarms else "intake"
    before, new_alerts, resolved, new_events = await db.run(name, body, urgent=alarms)
    urgent = min((int(e.priority) for e in new_events), default=None)
    return IntakeResult(_answers(plan, before) + resolved, new_alerts, len(new_events), urgent)
