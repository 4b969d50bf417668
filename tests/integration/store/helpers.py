"""Shared pieces of the store tests: storing messages, reading rows, fakes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from firmware_protocol.messages import Alert, AlertKind, Health, Stage, Status
from gateway.config import RulesConfig
from gateway.core.events import Event, Priority
from gateway.core.intake import plan_intake
from gateway.registry import Registry
from gateway.store.db import Database
from gateway.store.events import insert_events
from gateway.store.intake import IntakeResult, StageUpdate, apply_plan
from tests.unit.gateway.helpers import T0, FakeClock, registry, sample

__all__ = ["REGISTRY", "SINKS", "T0", "FakeAcks", "FakeClock", "registry", "sample"]

SINKS = ("webhook",)
RULES = RulesConfig()
REGISTRY: Registry = registry("T0001", "T0002", "T0003")


class FakeAcks:
    """An AckSink that records every update it is handed."""

    def __init__(self) -> None:
        self.updates: list[StageUpdate] = []
        self.calls = 0

    async def submit(self, updates: Sequence[StageUpdate]) -> None:
        self.calls += 1
        self.updates.extend(updates)

    def stages(self) -> list[tuple[str, str, Stage]]:
        return [(u.terminal_id, u.alert_id, u.stage) for u in self.updates]


async def store(
    db: Database, *messages: Alert | Health | Status, now: float = T0,
    sinks: Sequence[str] = SINKS, terminals: Registry = REGISTRY,
) -> IntakeResult:  # fmt: skip
    """What intake does with ``messages`` arriving at ``now``."""
    return await apply_plan(db, plan_intake(messages, terminals, RULES, now), sinks, now)


def alert(alert_id: str = "b1", terminal_id: str = "T0001", kind: AlertKind = AlertKind.EMERGENCY,
          cancels: str | None = None) -> Alert:  # fmt: skip
    return Alert(terminal_id, alert_id, kind, T0 - 1, cancels=cancels)


async def rows(db: Database, query: str, *params: Any) -> list[dict[str, Any]]:
    """Committed rows, read through the reader connection."""
    async with db.reader.execute(query, params) as cursor:
        return [dict(row) async for row in cursor]


async def add_events(db: Database, events: Sequence[Event], now: float,
                     sinks: Sequence[str] = SINKS) -> None:  # fmt: skip
    async with db.transaction() as conn:
        await insert_events(conn, events, sinks, now)


def event(event_id: str, priority: Priority = Priority.ALERT, type_: str = "alert") -> Event:
    return Event(event_id, type_, priority, T0, "T0001", ("District", "TownA", "V1"), {"n": 1})


async def query_plan(db: Database, query: str, *params: Any) -> list[str]:
    """SQLite's plan for ``query``, one line per step (``SEARCH …`` / ``SCAN …``)."""
    async with db.reader.execute(f"EXPLAIN QUERY PLAN {query}", params) as cursor:
        return [str(row[3]) async for row in cursor]
