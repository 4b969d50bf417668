"""Messages set aside because intake failed on them: kept for a person to inspect."""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Any

from gateway.errors import StoreError
from gateway.store.db import Database

#: How many set-aside messages a gateway remembers at start (the newest).
REMEMBERED = 10_000


def digest(topic: str, payload: bytes) -> str:
    """The identity of a message: a retransmission has the same digest."""
    return hashlib.sha256(topic.encode() + b"\0" + payload).hexdigest()


class Quarantine:
    """The ``quarantine`` table: one row per distinct message, counting repeats."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_aside(self, topic: str, payload: bytes, error: str, now: float) -> str:
        """Keep the message; raise :class:`StoreError` when even that cannot be written."""
        key = digest(topic, payload)
        try:
            async with self._db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO quarantine (topic, digest, payload, error, first_at, last_at)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (topic, digest) DO UPDATE SET"
                    " count = count + 1, last_at = excluded.last_at, error = excluded.error",
                    (topic, key, payload, error[:1000], now, now),
                )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot set a message aside: {exc}") from exc
        return key

    async def digests(self) -> set[str]:
        """The newest set-aside messages' digests."""
        async with self._db.reader.execute(
            "SELECT digest FROM quarantine ORDER BY last_at DESC LIMIT ?", (REMEMBERED,)
        ) as cursor:
            return {row[0] async for row in cursor}

    async def list(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first, payloads as text where they are UTF-8."""
        async with self._db.reader.execute(
            "SELECT topic, digest, payload, error, first_at, last_at, count FROM quarantine"
            " ORDER BY last_at DESC LIMIT ?",
            (limit,),
        ) as cursor:
            found = [dict(row) async for row in cursor]
        for row in found:
            row["payload"] = bytes(row["payload"]).decode("utf-8", errors="replace")
        return found
