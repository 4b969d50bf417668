"""Service requests (meal, errand, nursing, mobility): scheduled, assigned, completed.

A service request is an alarm of a service kind plus one ``service_requests`` row. Each
step is one commit with its timeline entry and, where the terminal can show it, the
alarm's stage: assigned → ``accepted`` (the assignee's name, and the ETA from the
schedule), completed → ``resolved`` (with the note).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from firmware_protocol.messages import Stage
from gateway.core.dispatch import Responder
from gateway.dispatch.briefs import brief, service_event
from gateway.registry import Terminal
from gateway.store.alerts import Advance, AlertStore, StageWriter
from gateway.store.elders import read_record
from gateway.store.events import insert_events
from gateway.store.intake import StageUpdate

#: Longest completion note (an ack's note on the terminal holds 200 characters).
NOTE_MAX = 200


@dataclass(slots=True)
class ServiceResult:
    """``applied`` False with ``reason`` when nothing changed; acks for the terminal."""

    applied: bool
    reason: str = ""
    acks: list[StageUpdate] = field(default_factory=list)
    events: int = 0


def eta_from(scheduled_for: float | None, received_at: float, now: float) -> int | None:
    """The ack's ``eta_s`` (seconds counted from receipt) for a schedule; ``None`` = asap."""
    if scheduled_for is None:
        return None
    return int(min(86_400, max(scheduled_for, now) - received_at))


class ServiceStore:
    """Steps of service requests, each one commit."""

    def __init__(
        self, alerts: AlertStore, registry: Mapping[str, Terminal], kinds: frozenset[str]
    ) -> None:
        self.alerts = alerts
        self.registry = registry
        self.kinds = kinds
        self._db = alerts.db

    async def _open_alert(
        self, conn: aiosqlite.Connection, t: str, a: str
    ) -> dict[str, Any] | None:
        async with conn.execute(
            "SELECT terminal_id, alert_id, kind, pressed_at, received_at, stage_rank, district,"
            " town, village, detail FROM alerts WHERE terminal_id = ? AND alert_id = ?",
            (t, a),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None or row["kind"] not in self.kinds or row["stage_rank"] >= 3:
            return None
        doc = dict(row)
        doc["region"] = [doc.pop("district"), doc.pop("town"), doc.pop("village")]
        doc["detail"] = json.loads(doc["detail"])
        return doc

    async def _row(self, conn: aiosqlite.Connection, t: str, a: str) -> dict[str, Any] | None:
        async with conn.execute(
            "SELECT * FROM service_requests WHERE terminal_id = ? AND alert_id = ?", (t, a)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else dict(row)

    async def _touch(self, w: StageWriter, t: str, a: str, action: str, actor: str,
                     note: str | None, now: float) -> None:  # fmt: skip
        await w.conn.execute(
            "INSERT INTO alert_timeline (terminal_id, alert_id, action, at, actor, note)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (t, a, action, now, actor, note),
        )
        await w.conn.execute(
            "UPDATE alerts SET updated_at = max(updated_at, ?) WHERE terminal_id = ?"
            " AND alert_id = ?",
            (now, t, a),
        )

    async def schedule(
        self, t: str, a: str, at: float | None, actor: str, now: float
    ) -> ServiceResult:
        """Serve at ``at`` (Unix time) or as soon as possible (``None``)."""
        async with self.alerts.transaction() as w:
            alert = await self._open_alert(w.conn, t, a)
            if alert is None:
                return ServiceResult(False, "not an open service request")
            row = await self._row(w.conn, t, a)
            status = row["status"] if row and row["status"] == "assigned" else "scheduled"
            await w.conn.execute(
                "INSERT INTO service_requests (terminal_id, alert_id, status, scheduled_for,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (terminal_id, alert_id) DO UPDATE SET status = excluded.status,"
                " scheduled_for = excluded.scheduled_for, updated_at = excluded.updated_at",
                (t, a, status, at, now, now),
            )
            await self._touch(w, t, a, "service.scheduled", actor,
                              "asap" if at is None else str(int(at)), now)  # fmt: skip
            acks: list[StageUpdate] = []
            if status == "assigned" and row is not None:
                # Already on the way: the terminal hears the new time (a repeat of accepted).
                eta = eta_from(at, alert["received_at"], now)
                await w.conn.execute(
                    "UPDATE alerts SET eta_s = ? WHERE terminal_id = ? AND alert_id = ?",
                    (eta, t, a),
                )
                acks.append(StageUpdate(t, a, Stage.ACCEPTED, by=row["assignee"], eta_s=eta))
        return ServiceResult(True, acks=acks)

    async def assign(
        self, t: str, a: str, assignee: Responder, actor: str, now: float
    ) -> ServiceResult:
        """Give the request to a volunteer or provider; the terminal is told who comes."""
        async with self.alerts.transaction() as w:
            alert = await self._open_alert(w.conn, t, a)
            if alert is None:
                return ServiceResult(False, "not an open service request")
            row = await self._row(w.conn, t, a)
            scheduled = row["scheduled_for"] if row else None
            number = (row["assignments"] if row else 0) + 1
            await w.conn.execute(
                "INSERT INTO service_requests (terminal_id, alert_id, status, scheduled_for,"
                " assignee, assignee_phone, assignee_role, assignments, created_at, updated_at)"
                " VALUES (?, ?, 'assigned', ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (terminal_id, alert_id) DO UPDATE SET status = 'assigned',"
                " assignee = excluded.assignee, assignee_phone = excluded.assignee_phone,"
                " assignee_role = excluded.assignee_role, assignments = excluded.assignments,"
                " updated_at = excluded.updated_at",
                (t, a, scheduled, assignee.name, assignee.phone, assignee.role, number, now, now),
            )  # fmt: skip
            await self._touch(w, t, a, "service.assigned", actor,
                              f"{assignee.role}: {assignee.name}", now)  # fmt: skip
            eta = eta_from(scheduled, alert["received_at"], now)
            acks = await w.advance([Advance(t, a, Stage.ACCEPTED, assignee.name, None, eta)], now)
            if not acks:  # accepted before: the new assignee is who the terminal shows now
                await w.conn.execute(
                    "UPDATE alerts SET accepted_by = ?, eta_s = ? WHERE terminal_id = ?"
                    " AND alert_id = ?",
                    (assignee.name, eta, t, a),
                )
                acks = [StageUpdate(t, a, Stage.ACCEPTED, by=assignee.name, eta_s=eta)]
            record = await read_record(w.conn, t)
            told = brief(alert, self.registry.get(t), record)
            event = service_event(alert, number, assignee, scheduled, told, now)
            fresh = await insert_events(w.conn, [event], w.sinks, now)
        return ServiceResult(True, acks=acks, events=len(fresh))

    async def complete(self, t: str, a: str, note: str | None, actor: str,
                       now: float) -> ServiceResult:  # fmt: skip
        """Served: the request is closed and the terminal told ``resolved`` with the note."""
        note = note[:NOTE_MAX] if note else None
        async with self.alerts.transaction() as w:
            alert = await self._open_alert(w.conn, t, a)
            if alert is None:
                return ServiceResult(False, "not an open service request")
            await w.conn.execute(
                "INSERT INTO service_requests (terminal_id, alert_id, status, note, created_at,"
                " updated_at, completed_at) VALUES (?, ?, 'done', ?, ?, ?, ?)"
                " ON CONFLICT (terminal_id, alert_id) DO UPDATE SET status = 'done',"
                " note = excluded.note, updated_at = excluded.updated_at,"
                " completed_at = excluded.completed_at",
                (t, a, note, now, now, now),
            )
            acks = await w.advance([Advance(t, a, Stage.RESOLVED, actor, note)], now)
        return ServiceResult(True, acks=acks, events=len(acks))

    async def get(self, t: str, a: str) -> dict[str, Any] | None:
        """The request's row (``None``: nothing scheduled or assigned yet)."""
        return await self._row(self._db.reader, t, a)

    async def open_requests(self, region: Sequence[str], limit: int = 500) -> list[dict[str, Any]]:
        """Open service requests inside ``region``, oldest first, with their schedule."""
        kinds = sorted(self.kinds)
        clauses = [f"a.kind IN ({','.join('?' * len(kinds))})", "a.stage_rank < 3"]
        params: list[Any] = list(kinds)
        for column, value in zip(("district", "town", "village"), region, strict=False):
            clauses.append(f"a.{column} = ?")
            params.append(value)
        async with self._db.reader.execute(
            "SELECT a.terminal_id, a.alert_id, a.kind, a.stage, a.received_at, a.district,"
            " a.town, a.village, s.status, s.scheduled_for, s.assignee, s.assignee_phone"
            " FROM alerts a LEFT JOIN service_requests s ON s.terminal_id = a.terminal_id"
            f" AND s.alert_id = a.alert_id WHERE {' AND '.join(clauses)}"
            " ORDER BY a.received_at LIMIT ?",
            (*params, limit),
        ) as cursor:
            found = []
            async for row in cursor:
                doc = dict(row)
                doc["region"] = [doc.pop("district"), doc.pop("town"), doc.pop("village")]
                doc["status"] = doc["status"] or "new"
                found.append(doc)
        return found
