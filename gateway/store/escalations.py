"""Raising an alarm's escalation level: the row, the timeline entry and the event, in the
caller's transaction. Used by the age-based escalator and by the call sequence."""

from __future__ import annotations

from collections.abc import Sequence

import aiosqlite

from gateway.core.escalation import escalation_event
from gateway.store.events import insert_events


async def raise_level(
    conn: aiosqlite.Connection, terminal_id: str, alert_id: str, level: int, name: str, *,
    actor: str, reason: str, sinks: Sequence[str], now: float,
) -> bool:  # fmt: skip
    """Raise an unaccepted alarm to ``level``; False when it was there already or taken."""
    cursor = await conn.execute(
        "UPDATE alerts SET escalation_level = ?, updated_at = ?"
        " WHERE terminal_id = ? AND alert_id = ? AND escalation_level < ? AND stage_rank < 2"
        " RETURNING district, town, village",
        (level, now, terminal_id, alert_id, level),
    )
    row = await cursor.fetchone()
    await cursor.close()
    if row is None:
        return False
    await conn.execute(
        "INSERT INTO alert_timeline (terminal_id, alert_id, action, at, actor, note)"
        " VALUES (?, ?, 'escalated', ?, ?, ?)",
        (terminal_id, alert_id, now, actor, f"to {name}"),
    )
    event = escalation_event(terminal_id, alert_id, tuple(row), level, name, reason, now)
    await insert_events(conn, [event], sinks, now)
    return True
