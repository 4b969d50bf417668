"""Moving an alert forward (delivered → accepted → resolved) and reading alerts back."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from firmware_protocol.messages import Stage
from gateway import metrics
from gateway.core.events import Event, Priority
from gateway.store.db import Database
from gateway.store.direct import Conn, Direct
from gateway.store.events import insert_events
from gateway.store.intake import StageUpdate


@dataclass(frozen=True, slots=True)
class Advance:
    """A request to move one alert to ``stage`` (ignored if it is already there or past)."""

    terminal_id: str
    alert_id: str
    stage: Stage
    actor: str
    note: str | None = None
    eta_s: int | None = None


def _stage_event(advance: Advance, region: tuple[str, ...], now: float) -> Event:
    return Event(
        event_id=f"stage:{advance.terminal_id}:{advance.alert_id}:{advance.stage.value}",
        type=f"alert.{advance.stage.value}",
        priority=Priority.ALERT,
        occurred_at=now,
        source=advance.terminal_id,
        region=region,
        data={
            "terminal_id": advance.terminal_id,
            "alert_id": advance.alert_id,
            "stage": advance.stage.value,
            "by": advance.actor,
            "note": advance.note,
            "eta_s": advance.eta_s,
        },
    )


@dataclass(slots=True)
class StageWriter:
    """Stage changes inside a transaction opened by :meth:`AlertStore.transaction`, so
    that other rows (a call sequence, a service request) commit together with them."""

    conn: aiosqlite.Connection
    sinks: Sequence[str]
    #: (kind, stage, seconds since received) of every move, observed after the commit.
    moved: list[tuple[str, str, float]] = field(default_factory=list)

    async def advance(self, advances: Sequence[Advance], now: float) -> list[StageUpdate]:
        """Apply stage changes that move an alert forward; return those that did."""
        return await advance_in(self.conn, advances, self.sinks, now, self.moved)


class AlertStore:
    """Stage changes and queries over ``alerts`` and ``alert_timeline``."""

    def __init__(self, db: Database, sinks: Sequence[str]) -> None:
        self._db = db
        self._sinks = list(sinks)

    @property
    def db(self) -> Database:
        return self._db

    @property
    def sinks(self) -> list[str]:
        return list(self._sinks)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[StageWriter]:
        """One write transaction in which alerts may move forward.

        The one place where stage changes are committed: once the commit succeeded,
        each move's time since receipt is observed in ``gateway_alert_stage_seconds``.
        """
        async with self._db.transaction("stage") as conn:
            writer = StageWriter(conn, self._sinks)
            yield writer
        observe_stages(writer.moved)

    async def advance(self, advances: Sequence[Advance], now: float) -> list[StageUpdate]:
        """Apply stage changes that move an alert forward; return those that did."""
        async with self.transaction() as writer:
            return await writer.advance(advances, now)

    async def mark_acked(self, updates: Sequence[StageUpdate]) -> None:
        """The broker accepted these acks: they leave the ack outbox."""
        if not updates:
            return

        async def body(conn: Direct) -> None:
            await conn.executemany(
                "UPDATE alerts SET acked_rank = max(acked_rank, ?)"
                " WHERE terminal_id = ? AND alert_id = ?",
                [(u.stage.rank, u.terminal_id, u.alert_id) for u in updates],
            )

        await self._db.run("mark_acked", body)

    async def unacked(self, older_than: float, limit: int = 500) -> list[StageUpdate]:
        """Stages committed before ``older_than`` whose ack was never confirmed sent."""
        async with self._db.reader.execute(
            "SELECT terminal_id, alert_id, stage, accepted_by, eta_s FROM alerts"
            " WHERE acked_rank < stage_rank AND updated_at < ? ORDER BY updated_at LIMIT ?",
            (older_than, limit),
        ) as cursor:
            return [
                StageUpdate(r["terminal_id"], r["alert_id"], Stage(r["stage"]),
                            by=r["accepted_by"], eta_s=r["eta_s"])
                async for r in cursor
            ]  # fmt: skip

    async def note(self, terminal_id: str, alert_id: str, action: str, actor: str,
                   note: str | None, now: float) -> bool:  # fmt: skip
        """Add a timeline entry (assign, call back, escalate …) to an existing alert."""
        async with self._db.transaction("note") as conn:
            cursor = await conn.execute(
                "INSERT INTO alert_timeline (terminal_id, alert_id, action, at, actor, note)"
                " SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS"
                " (SELECT 1 FROM alerts WHERE terminal_id = ? AND alert_id = ?)",
                (terminal_id, alert_id, action, now, actor, note, terminal_id, alert_id),
            )
            return cursor.rowcount > 0

    async def get(self, terminal_id: str, alert_id: str) -> dict[str, Any] | None:
        """One alert with its timeline."""
        async with self._db.reader.execute(
            "SELECT * FROM alerts WHERE terminal_id = ? AND alert_id = ?", (terminal_id, alert_id)
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        alert = _alert_json(dict(row))
        async with self._db.reader.execute(
            "SELECT action, at, actor, note FROM alert_timeline WHERE terminal_id = ?"
            " AND alert_id = ? ORDER BY at, id",
            (terminal_id, alert_id),
        ) as cursor:
            alert["timeline"] = [dict(r) async for r in cursor]
        return alert

    async def list(
        self, *, open_only: bool, region: Sequence[str] = (), limit: int = 200
    ) -> list[dict[str, Any]]:
        """Alerts newest first, optionally only unresolved ones, within ``region``."""
        clauses, params = ["kind NOT IN ('test', 'cancel')"], []
        if open_only:
            clauses.append("stage_rank < 3")
        for column, value in zip(("district", "town", "village"), region, strict=False):
            clauses.append(f"{column} = ?")
            params.append(value)
        query = (
            f"SELECT * FROM alerts WHERE {' AND '.join(clauses)} ORDER BY received_at DESC LIMIT ?"
        )
        async with self._db.reader.execute(query, [*params, limit]) as cursor:
            return [_alert_json(dict(row)) async for row in cursor]


#: Alerts per UPDATE statement (two parameters each, well under SQLite's limit).
_CHUNK = 400


def move_query(count: int) -> str:
    """Move ``count`` alerts (keys as (terminal_id, alert_id) pairs) to one stage, those
    behind it; the keys as a table (a row-value IN list would scan the alerts behind)."""
    keys = ",".join("(?,?)" for _ in range(count))
    return (
        "UPDATE alerts SET stage = ?, stage_rank = ?, updated_at = ?,"
        " accepted_by = CASE WHEN ? = 'accepted' THEN ? ELSE accepted_by END,"
        " eta_s = CASE WHEN ? = 'accepted' THEN ? ELSE eta_s END"
        f" FROM (VALUES {keys}) AS k WHERE alerts.terminal_id = k.column1"
        " AND alerts.alert_id = k.column2 AND stage_rank < ?"
        " RETURNING terminal_id, alert_id, district, town, village, accepted_by, eta_s,"
        " kind, received_at"
    )


async def _move(
    conn: Conn, group: Sequence[Advance], now: float
) -> dict[tuple[str, str], aiosqlite.Row]:
    """Move every alert of ``group`` (same stage, actor, note, ETA) that is behind it;
    return the moved ones' region and acceptance, by key. One statement per chunk."""
    first = group[0]
    stage = first.stage
    moved: dict[tuple[str, str], aiosqlite.Row] = {}
    for start in range(0, len(group), _CHUNK):
        chunk = group[start : start + _CHUNK]
        rows = await conn.execute_fetchall(
            move_query(len(chunk)),
            (stage.value, stage.rank, now, stage.value, first.actor, stage.value, first.eta_s,
             *(part for adv in chunk for part in (adv.terminal_id, adv.alert_id)), stage.rank),
        )  # fmt: skip
        moved.update({(row[0], row[1]): row for row in rows})
    return moved


#: What :func:`observe_stages` takes: (kind, stage, seconds since the alarm was received).
Observed = list[tuple[str, str, float]]


def observe_stages(observed: Observed) -> None:
    """Count committed moves in ``gateway_alert_stage_seconds``; call after the commit."""
    for kind, stage, seconds in observed:
        metrics.ALERT_STAGE_SECONDS.labels(kind, stage).observe(seconds)


async def advance_in(
    conn: Conn, advances: Sequence[Advance], sinks: Sequence[str], now: float,
    observed: Observed | None = None,
) -> list[StageUpdate]:  # fmt: skip
    """Move alerts forward inside the caller's transaction; return the moves made, in
    the order asked.

    ``accepted`` and ``resolved`` also become events, so that every other party (and
    the command center itself, if the console made the change) learns of them. Each
    move's time since receipt is added to ``observed``, for :func:`observe_stages` once
    the caller's transaction committed.
    """
    groups: dict[tuple[Any, ...], list[Advance]] = {}
    for adv in advances:
        groups.setdefault((adv.stage, adv.actor, adv.note, adv.eta_s), []).append(adv)
    rows: dict[tuple[str, str], aiosqlite.Row] = {}
    for group in groups.values():
        rows.update(await _move(conn, group, now))
    moved = {(key, group[0].stage) for group in groups.values() for key in rows}
    done = []
    for adv in advances:  # in the order asked, each move once
        key = ((adv.terminal_id, adv.alert_id), adv.stage)
        if key in moved and key[0] in rows:
            moved.discard(key)
            done.append(adv)
    await conn.executemany(
        "INSERT INTO alert_timeline (terminal_id, alert_id, action, at, actor, note)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [(a.terminal_id, a.alert_id, a.stage.value, now, a.actor, a.note) for a in done],
    )
    events = [
        _stage_event(a, tuple(rows[(a.terminal_id, a.alert_id)][2:5]), now)
        for a in done
        if a.stage is not Stage.DELIVERED
    ]
    await insert_events(conn, events, sinks, now)
    if observed is not None:
        for a in done:
            row = rows[(a.terminal_id, a.alert_id)]
            observed.append((row["kind"], a.stage.value, max(0.0, now - row["received_at"])))
    return [_update(a, rows[(a.terminal_id, a.alert_id)]) for a in done]


def _update(adv: Advance, row: aiosqlite.Row) -> StageUpdate:
    # Who took it (accepted) or closed it (resolved); no name for "delivered".
    by = None if adv.stage is Stage.DELIVERED else adv.actor
    return StageUpdate(
        adv.terminal_id, adv.alert_id, adv.stage, by=by, eta_s=row["eta_s"], note=adv.note
    )


def _alert_json(row: dict[str, Any]) -> dict[str, Any]:
    row["region"] = [row.pop("district"), row.pop("town"), row.pop("village")]
    row["detail"] = json.loads(row["detail"])
    return row
