"""Elders' records and contact lists in SQLite; every change audited in its own commit."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite

from gateway.core.elders import (
    PROVIDER_ROLES,
    Contact,
    ElderRecord,
    changed_fields,
    check_record,
    providers,
)
from gateway.store.audit import audit_in
from gateway.store.db import Database

CHUNK = 400
_COLUMNS = "terminal_id, address, access, medical, language, lives_alone, updated_at, updated_by"


def _record(row: aiosqlite.Row, contacts: Sequence[Contact], with_access: bool) -> ElderRecord:
    return ElderRecord(
        row["terminal_id"], row["address"], row["access"] if with_access else "",
        row["medical"], row["language"], bool(row["lives_alone"]), tuple(contacts),
        row["updated_at"], row["updated_by"],
    )  # fmt: skip


async def _contacts(conn: aiosqlite.Connection, terminal_id: str) -> list[Contact]:
    async with conn.execute(
        "SELECT name, role, phone FROM elder_contacts WHERE terminal_id = ? ORDER BY position",
        (terminal_id,),
    ) as cursor:
        return [Contact(r["name"], r["role"], r["phone"]) async for r in cursor]


async def read_record(
    conn: aiosqlite.Connection, terminal_id: str, *, with_access: bool = False
) -> ElderRecord | None:
    """One record through ``conn`` (the reader, or inside a transaction)."""
    async with conn.execute(
        f"SELECT {_COLUMNS} FROM elders WHERE terminal_id = ?", (terminal_id,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    return _record(row, await _contacts(conn, terminal_id), with_access)


async def _write(conn: aiosqlite.Connection, record: ElderRecord, actor: str, now: float) -> None:
    await conn.execute(
        f"INSERT INTO elders ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (terminal_id) DO UPDATE SET address = excluded.address,"
        " access = excluded.access, medical = excluded.medical, language = excluded.language,"
        " lives_alone = excluded.lives_alone, updated_at = excluded.updated_at,"
        " updated_by = excluded.updated_by",
        (record.terminal_id, record.address, record.access, record.medical, record.language,
         int(record.lives_alone), now, actor),
    )  # fmt: skip
    await conn.execute("DELETE FROM elder_contacts WHERE terminal_id = ?", (record.terminal_id,))
    await conn.executemany(
        "INSERT INTO elder_contacts (terminal_id, position, name, role, phone)"
        " VALUES (?, ?, ?, ?, ?)",
        [(record.terminal_id, n, c.name, c.role, c.phone) for n, c in enumerate(record.contacts)],
    )


class ElderStore:
    """Read, change and import elders' records."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, terminal_id: str, *, with_access: bool = False) -> ElderRecord | None:
        """The record; ``access`` is blank unless ``with_access`` (the caller audits that)."""
        return await read_record(self._db.reader, terminal_id, with_access=with_access)

    async def put(self, record: ElderRecord, actor: str, now: float) -> list[str]:
        """Store ``record`` (replacing the contacts); return the changed fields, audited
        in the same commit (names only, never the values)."""
        check_record(record)
        async with self._db.transaction() as conn:
            old = await read_record(conn, record.terminal_id, with_access=True)
            changed = changed_fields(old, record)
            if changed or old is None:
                await _write(conn, record, actor, now)
                await audit_in(
                    conn, actor, "elder.updated", record.terminal_id, {"fields": changed}, now
                )
        return changed

    async def import_records(
        self, records: Sequence[ElderRecord], actor: str, source: str, now: float
    ) -> dict[str, int]:
        """Store every record in one commit (all or nothing) with one audit entry."""
        for record in records:
            check_record(record)
        counts = {"created": 0, "changed": 0, "unchanged": 0}
        async with self._db.transaction() as conn:
            for record in records:
                old = await read_record(conn, record.terminal_id, with_access=True)
                changed = changed_fields(old, record)
                key = "created" if old is None else ("changed" if changed else "unchanged")
                counts[key] += 1
                if key != "unchanged":
                    await _write(conn, record, actor, now)
            await audit_in(conn, actor, "elder.imported", source, dict(counts), now)
        return counts

    async def summaries(self, terminal_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """For each terminal with a record: contact count, lives alone, last change."""
        ids = list(terminal_ids)
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            async with self._db.reader.execute(
                "SELECT e.terminal_id, e.lives_alone, e.updated_at, e.updated_by, e.address,"
                " (SELECT count(*) FROM elder_contacts c WHERE c.terminal_id = e.terminal_id)"
                f" AS contacts FROM elders e WHERE e.terminal_id IN ({marks})",
                chunk,
            ) as cursor:
                async for row in cursor:
                    found[row["terminal_id"]] = dict(row)
        return found

    async def providers_among(self, terminal_ids: Iterable[str]) -> list[Contact]:
        """Service providers (service station, volunteers …) in these elders' lists."""
        ids = list(terminal_ids)
        found: list[Contact] = []
        roles = ",".join("?" * len(PROVIDER_ROLES))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            async with self._db.reader.execute(
                "SELECT name, role, phone FROM elder_contacts"
                f" WHERE terminal_id IN ({marks}) AND role IN ({roles})",
                [*chunk, *PROVIDER_ROLES],
            ) as cursor:
                found += [Contact(r["name"], r["role"], r["phone"]) async for r in cursor]
        return providers(found)
