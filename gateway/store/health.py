"""Health reports: a row per report as it arrives, then a summary per terminal and day.

Raw reports are what the console charts (the last 24 h) and what a clinician looks at in
the first days; after ``store.health_raw_days`` they are folded into ``health_daily``
(count, minimum, maximum and sum of each vital, falls) and dropped, so the file stays
bounded at district scale (~49 million reports a day).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gateway.core.intake import HealthRow, health_event_id
from gateway.store.db import Database
from gateway.store.direct import Conn

#: The numeric vitals, each a column of ``health`` (and summarised in ``health_daily``).
NUMERIC = (
    "bp_systolic_mmhg",
    "bp_diastolic_mmhg",
    "heart_rate_bpm",
    "spo2_pct",
    "body_temp_c",
    "glucose_mmol_l",
    "steps",
)
COLUMNS = (*NUMERIC, "fall_detected")
_INSERT = (
    f"INSERT INTO health (terminal_id, report_id, ts, received_at, {', '.join(COLUMNS)})"
    " VALUES {values} ON CONFLICT DO NOTHING RETURNING terminal_id, report_id"
)
_PER_ROW = 4 + len(COLUMNS)
_CHUNK = 1000  # rows per INSERT statement (9 × 12 parameters, well under SQLite's limit)


def _values(row: HealthRow) -> tuple[Any, ...]:
    vitals = row.vitals
    fall = vitals.get("fall_detected")
    numbers = (vitals.get(name) for name in NUMERIC)
    return (row.terminal_id, row.report_id, row.ts, row.received_at, *numbers,
            None if fall is None else int(fall))  # fmt: skip


async def insert_reports(conn: Conn, rows: Sequence[HealthRow]) -> set[str]:
    """Store new reports; return the event ids of those that were stored before.

    The report table is what deduplicates a retransmitted report (its event is dropped
    once delivered), so the caller must not raise those events again.
    """
    stored: set[str] = set()
    placeholders = "(" + ",".join("?" * _PER_ROW) + ")"
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        query = _INSERT.format(values=",".join([placeholders] * len(chunk)))
        params = [value for row in chunk for value in _values(row)]
        found = await conn.execute_fetchall(query, params)
        stored.update(health_event_id(r[0], r[1]) for r in found)
    return {health_event_id(r.terminal_id, r.report_id) for r in rows} - stored


async def recent(
    db: Database, terminal_id: str, since: float
) -> list[tuple[float, dict[str, Any]]]:
    """A terminal's reports measured since ``since``, oldest first: ``(ts, vitals)``."""
    async with db.reader.execute(
        f"SELECT ts, {', '.join(COLUMNS)} FROM health WHERE terminal_id = ? AND ts >= ?"
        " ORDER BY ts LIMIT 2000",
        (terminal_id, since),
    ) as cursor:
        return [(row[0], vitals_of(row[1:])) async for row in cursor]


def vitals_of(values: Sequence[Any]) -> dict[str, Any]:
    """A stored report's vitals from its ``COLUMNS`` values (in that order), as reported:
    the vitals it did not measure left out."""
    measured = zip(NUMERIC, values[: len(NUMERIC)], strict=True)
    vitals = {name: value for name, value in measured if value is not None}
    fall = values[len(NUMERIC)]
    if fall is not None:
        vitals["fall_detected"] = bool(fall)
    return vitals


def _merge(name: str) -> str:
    """SQL merging one vital's summary of a chunk into the day's row."""
    low, high = f"{name}_min", f"{name}_max"
    return (
        f"{name}_n = {name}_n + excluded.{name}_n,"
        f" {name}_sum = {name}_sum + excluded.{name}_sum,"
        f" {low} = coalesce(min({low}, excluded.{low}), {low}, excluded.{low}),"
        f" {high} = coalesce(max({high}, excluded.{high}), {high}, excluded.{high})"
    )


_SUMMARY_COLUMNS = ", ".join(f"{n}_n, {n}_min, {n}_max, {n}_sum" for n in NUMERIC)
_SUMMARIES = ", ".join(f"count({n}), min({n}), max({n}), total({n})" for n in NUMERIC)
_FOLD = (
    f"INSERT INTO health_daily (terminal_id, day, reports, falls, {_SUMMARY_COLUMNS})"
    f" SELECT terminal_id, CAST(received_at / 86400 AS INTEGER), count(*),"
    f" total(fall_detected), {_SUMMARIES}"
    " FROM health WHERE id IN (SELECT id FROM temp.folding) GROUP BY 1, 2"
    " ON CONFLICT (terminal_id, day) DO UPDATE SET reports = reports + excluded.reports,"
    f" falls = falls + excluded.falls, {', '.join(_merge(n) for n in NUMERIC)}"
)


async def fold_old(db: Database, before: float, limit: int, sinks: Sequence[str] = ()) -> int:
    """Fold up to ``limit`` of the oldest reports received before ``before`` into their
    day's summary and drop them, in one transaction. Returns how many were folded.

    Kept whatever their age: the reports still owed to one of ``sinks`` (past its feed
    cursor), and the newest report, so that the next one's id is larger than every
    cursor (see :mod:`gateway.store.feed`)."""
    owed = ",".join("?" * len(sinks))
    async with db.transaction("health_fold") as conn:
        await conn.execute("CREATE TEMP TABLE IF NOT EXISTS folding (id INTEGER PRIMARY KEY)")
        await conn.execute("DELETE FROM temp.folding")
        cursor = await conn.execute(
            "INSERT INTO temp.folding SELECT id FROM health WHERE received_at < ?"
            " AND id < (SELECT max(id) FROM health)"
            f" AND id <= coalesce((SELECT min(after) FROM feed WHERE sink IN ({owed})), id)"
            " ORDER BY received_at LIMIT ?",
            (before, *sinks, limit),
        )
        folded = cursor.rowcount
        await cursor.close()
        if folded:
            await conn.execute(_FOLD)
            await conn.execute("DELETE FROM health WHERE id IN (SELECT id FROM temp.folding)")
    return max(folded, 0)


async def daily(db: Database, terminal_id: str, since_day: int) -> list[dict[str, Any]]:
    """A terminal's daily summaries from ``since_day`` (days since 1970-01-01 UTC) on,
    each with the mean of every vital reported that day."""
    async with db.reader.execute(
        "SELECT * FROM health_daily WHERE terminal_id = ? AND day >= ? ORDER BY day",
        (terminal_id, since_day),
    ) as cursor:
        found = [dict(row) async for row in cursor]
    for row in found:
        for name in NUMERIC:
            count = row[f"{name}_n"]
            row[f"{name}_mean"] = row[f"{name}_sum"] / count if count else None
    return found
