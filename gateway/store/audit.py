"""The audit log: who did what, when, to which alert, terminal or account."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from gateway.store.db import Database


async def audit_in(
    conn: aiosqlite.Connection, actor: str, action: str, target: str,
    detail: dict[str, Any], now: float,
) -> None:  # fmt: skip
    """One audit entry inside the caller's transaction (with the change it records)."""
    await conn.execute(
        "INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (now, actor, action, target, json.dumps(detail, ensure_ascii=False)),
    )


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self, actor: str, action: str, target: str, detail: dict[str, Any], now: float
    ) -> None:
        async with self._db.transaction() as conn:
            await audit_in(conn, actor, action, target, detail, now)

    async def recent(self, limit: int = 200) -> list[dict[str, Any]]:
        async with self._db.reader.execute(
            "SELECT at, actor, action, target, detail FROM audit_log ORDER BY id DESC LIMIT ?",
            (limit,),
        ) as cursor:
            return [{**dict(row), "detail": json.loads(row["detail"])} async for row in cursor]
