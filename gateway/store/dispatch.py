"""Call sequences in SQLite: each input is one transaction that reads the sequence, steps
the pure machine (:mod:`gateway.core.dispatch`) and writes the new state together with
everything its actions raise — attempt rows, timeline entries, events for the command
center, the alarm's acceptance and its escalation.

Reading the state inside the write transaction (``BEGIN IMMEDIATE``) makes several
gateway processes safe on one file: the second one sees what the first committed.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import aiosqlite

from firmware_protocol.messages import Stage
from gateway.core import dispatch as core
from gateway.core.dispatch import (
    STAND_DOWN,
    Attempt,
    Outcome,
    Policy,
    Responder,
    SequenceState,
    Status,
)
from gateway.core.escalation import EscalationRule, level_name
from gateway.core.events import Event
from gateway.dispatch.briefs import accepted_event, brief, notify_event, stand_down_event
from gateway.registry import Terminal
from gateway.store.alerts import Advance, AlertStore, StageWriter
from gateway.store.audit import audit_in
from gateway.store.elders import read_record
from gateway.store.escalations import raise_level
from gateway.store.events import insert_events
from gateway.store.intake import StageUpdate

ACTOR = "dispatch"
#: The active statuses as SQL, written exactly as in the partial index ``dispatches_active``
#: (SQLite uses a partial index only for a query term matching its own).
ACTIVE_SQL = "'calling', 'exhausted', 'taken_over', 'idle'"
#: The worker's sweeps, run twice a second on a file holding months of alarms.
DUE_SQL = (
    "SELECT terminal_id, alert_id FROM dispatches WHERE deadline IS NOT NULL"
    " AND deadline <= ? ORDER BY deadline LIMIT ?"
)
SETTLED_SQL = (
    # CROSS JOIN: from the few active sequences to their alarms, never the reverse.
    "SELECT d.terminal_id, d.alert_id FROM dispatches d CROSS JOIN alerts a"
    " ON a.terminal_id = d.terminal_id AND a.alert_id = d.alert_id"
    f" WHERE d.status IN ({ACTIVE_SQL}) AND a.stage_rank >= 2 LIMIT ?"
)
_ALERT_COLUMNS = (
    "terminal_id, alert_id, kind, pressed_at, received_at, stage_rank, escalation_level,"
    " district, town, village, detail"
)


def token_hash(token: str) -> str:
    """How an answer token is stored and looked up (never the token itself)."""
    return hashlib.sha256(token.encode()).hexdigest()


# -- the state as JSON ----------------------------------------------------------------


def _responder(doc: Mapping[str, Any]) -> Responder:
    return Responder(doc["name"], doc["phone"], doc["role"])


def encode_state(state: SequenceState) -> str:
    return json.dumps(asdict(state), ensure_ascii=False, separators=(",", ":"))


def decode_state(text: str) -> SequenceState:
    doc = json.loads(text)
    current = doc["current"]
    accepted = doc["accepted_by"]
    return SequenceState(
        status=Status(doc["status"]),
        responders=tuple(_responder(r) for r in doc["responders"]),
        position=doc["position"], round=doc["round"], attempts=doc["attempts"],
        current=None if current is None else Attempt(
            current["number"], _responder(current["responder"]), current["position"],
            current["round"], current["started_at"], current["deadline"],
        ),
        escalated=doc["escalated"], taken_over=doc["taken_over"],
        accepted_by=None if accepted is None else _responder(accepted),
        manual=doc.get("manual", False),
    )  # fmt: skip


# -- results --------------------------------------------------------------------------


@dataclass(slots=True)
class Applied:
    """What one input did: the state now, acks for the terminal, whether events were
    raised, and the reason when the input changed nothing."""

    state: SequenceState | None = None
    acks: list[StageUpdate] = field(default_factory=list)
    events: int = 0
    refused: str | None = None
    key: tuple[str, str] | None = None
    #: How the attempts that ended in this step ended.
    outcomes: list[str] = field(default_factory=list)


def _alert_doc(row: aiosqlite.Row) -> dict[str, Any]:
    doc = dict(row)
    doc["region"] = [doc.pop("district"), doc.pop("town"), doc.pop("village")]
    doc["detail"] = json.loads(doc["detail"])
    return doc


def _attempt(row: Mapping[str, Any]) -> Attempt:
    return Attempt(
        row["attempt"], Responder(row["name"], row["phone"], row["role"]), row["position"],
        row["round"], row["notified_at"], row["deadline"],
    )  # fmt: skip


def _note(responder: Responder) -> str:
    return f"{responder.role}: {responder.name}"


class _Writer:
    """Turns one step's actions into rows and events inside the open transaction."""

    def __init__(
        self, store: SequenceStore, stage: StageWriter, alert: dict[str, Any], now: float
    ) -> None:
        self.store = store
        self.stage = stage
        self.conn = stage.conn
        self.alert = alert
        self.now = now
        self.events: list[Event] = []
        self.acks: list[StageUpdate] = []
        self.outcomes: list[str] = []
        self._told: dict[bool, dict[str, Any]] = {}

    @property
    def key(self) -> tuple[str, str]:
        return self.alert["terminal_id"], self.alert["alert_id"]

    async def told(self, with_access: bool) -> dict[str, Any]:
        if with_access not in self._told:
            record = await read_record(self.conn, self.key[0], with_access=with_access)
            terminal = self.store.registry.get(self.key[0])
            self._told[with_access] = brief(self.alert, terminal, record, with_access=with_access)
        return self._told[with_access]

    async def timeline(self, action: str, actor: str, note: str | None) -> None:
        await self.conn.execute(
            "INSERT INTO alert_timeline (terminal_id, alert_id, action, at, actor, note)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (*self.key, action, self.now, actor, note),
        )

    async def apply(self, actions: Sequence[core.Action]) -> str | None:
        refused = None
        for action in actions:
            if isinstance(action, core.Notify):
                await self._notify(action.attempt)
            elif isinstance(action, core.Ended):
                await self._ended(action)
            elif isinstance(action, core.Accept):
                await self._accept(action)
            elif isinstance(action, core.Escalate):
                await self._escalate()
            else:
                refused = action.reason
        return refused

    async def _notify(self, attempt: Attempt) -> None:
        token = secrets.token_urlsafe(18)
        await self.conn.execute(
            "INSERT INTO dispatch_attempts (terminal_id, alert_id, attempt, round, position,"
            " name, role, phone, notified_at, deadline, token_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*self.key, attempt.number, attempt.round, attempt.position, attempt.responder.name,
             attempt.responder.role, attempt.responder.phone, self.now, attempt.deadline,
             token_hash(token)),
        )  # fmt: skip
        await self.timeline("dispatch.notified", ACTOR, _note(attempt.responder))
        told = await self.told(with_access=False)
        self.events.append(notify_event(self.alert, attempt, token, told, self.now))

    async def _ended(self, ended: core.Ended) -> None:
        attempt = ended.attempt
        self.outcomes.append(ended.outcome.value)
        await self.conn.execute(
            "UPDATE dispatch_attempts SET outcome = ?, ended_at = ?"
            " WHERE terminal_id = ? AND alert_id = ? AND attempt = ?",
            (ended.outcome.value, self.now, *self.key, attempt.number),
        )
        if ended.outcome is Outcome.ACCEPTED:
            return  # the alarm's own "accepted" entry says it
        actor = ended.actor or ACTOR
        await self.timeline(f"dispatch.{ended.outcome.value}", actor, _note(attempt.responder))
        if ended.outcome in STAND_DOWN:
            self.events.append(stand_down_event(self.alert, attempt, ended.outcome, self.now))

    async def _accept(self, accept: core.Accept) -> None:
        async with self.conn.execute(
            "SELECT * FROM dispatch_attempts WHERE terminal_id = ? AND alert_id = ?"
            " AND attempt = ?",
            (*self.key, accept.attempt),
        ) as cursor:
            row = await cursor.fetchone()
        assert row is not None  # an Accept names an attempt that was notified
        await self.conn.execute(
            "UPDATE dispatch_attempts SET outcome = 'accepted', ended_at = ?, eta_s = ?"
            " WHERE terminal_id = ? AND alert_id = ? AND attempt = ?",
            (self.now, accept.eta_s, *self.key, accept.attempt),
        )
        advance = Advance(*self.key, Stage.ACCEPTED, accept.responder.name, None, accept.eta_s)
        self.acks += await self.stage.advance([advance], self.now)
        told = await self.told(with_access=True)
        self.events.append(
            accepted_event(self.alert, _attempt(dict(row)), accept.eta_s, told, self.now)
        )
        await audit_in(
            self.conn, ACTOR, "elder.access_sent", self.key[0],
            {"to": accept.responder.name, "alert_id": self.key[1], "attempt": accept.attempt},
            self.now,
        )  # fmt: skip

    async def _escalate(self) -> None:
        rounds = self.store.policy.rounds
        await self.timeline("dispatch.exhausted", ACTOR, f"rounds: {rounds}")
        level = int(self.alert["escalation_level"]) + 1
        name = level_name(level, self.store.rules)
        if name is not None:
            await raise_level(
                self.conn, *self.key, level, name, actor=ACTOR,
                reason="no responder accepted", sinks=self.stage.sinks, now=self.now,
            )  # fmt: skip


class SequenceStore:
    """Call sequences over ``dispatches`` and ``dispatch_attempts``."""

    def __init__(
        self, alerts: AlertStore, registry: Mapping[str, Terminal], policy: Policy,
        rules: Sequence[EscalationRule] = (),
    ) -> None:  # fmt: skip
        self.alerts = alerts
        self.registry = registry
        self.policy = policy
        self.rules = tuple(rules)
        self._db = alerts.db

    # -- writing ----------------------------------------------------------------------

    async def start(self, keys: Sequence[tuple[str, str]], now: float) -> list[Applied]:
        """Start the sequences of these alarms (in one commit); skip any that has one
        already or was accepted meanwhile."""
        started = []
        async with self.alerts.transaction() as stage:
            for key in keys:
                alert = await self._alert(stage.conn, key)
                if alert is None or alert["stage_rank"] >= 2 or await self._load(stage.conn, key):
                    continue
                record = await read_record(stage.conn, key[0])
                actions: list[core.Action] = []
                if record is None:
                    state = core.idle()
                else:
                    responders = [Responder(c.name, c.phone, c.role) for c in record.contacts]
                    state, actions = core.start(responders, self.policy, now)
                started.append(await self._write(stage, alert, state, actions, now, new=True))
        return started

    async def apply(
        self, terminal_id: str, alert_id: str, event: core.Input, now: float
    ) -> Applied:
        """Apply one input to one alarm's sequence, in one commit."""
        async with self.alerts.transaction() as stage:
            return await self._step(stage, (terminal_id, alert_id), event, now)

    async def answer(
        self, token: str, accept: bool, eta_s: int | None, now: float
    ) -> Applied | None:
        """A responder's answer by token; ``None`` when the token is unknown."""
        async with self.alerts.transaction() as stage:
            async with stage.conn.execute(
                "SELECT * FROM dispatch_attempts WHERE token_hash = ?", (token_hash(token),)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return None
            previous = Outcome(row["outcome"]) if row["outcome"] else None
            responder = Responder(row["name"], row["phone"], row["role"])
            event = core.Answer(row["attempt"], responder, accept, previous, eta_s)
            key = (row["terminal_id"], row["alert_id"])
            return await self._step(stage, key, event, now)

    async def _step(
        self, stage: StageWriter, key: tuple[str, str], event: core.Input, now: float
    ) -> Applied:
        alert = await self._alert(stage.conn, key)
        state = await self._load(stage.conn, key)
        if alert is None or state is None:
            return Applied(refused="no call sequence for this alarm", key=key)
        actions: list[core.Action] = []
        if (
            alert["stage_rank"] >= 2
            and state.status in core.ACTIVE
            and not isinstance(event, core.Closed)
        ):
            # Accepted or resolved elsewhere a moment ago: the sequence ends first.
            state, actions = core.step(state, core.Closed("settled"), self.policy, now)
        state, more = core.step(state, event, self.policy, now)
        return await self._write(stage, alert, state, [*actions, *more], now)

    async def _write(
        self, stage: StageWriter, alert: dict[str, Any], state: SequenceState,
        actions: Sequence[core.Action], now: float, new: bool = False,
    ) -> Applied:  # fmt: skip
        writer = _Writer(self, stage, alert, now)
        refused = await writer.apply(actions)
        key = writer.key
        if refused is not None and len(actions) == 1:
            return Applied(state, refused=refused, key=key)
        current = state.current.responder if state.current else state.accepted_by
        await stage.conn.execute(
            "INSERT INTO dispatches (terminal_id, alert_id, status, state, deadline, attempt,"
            " responder, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (terminal_id, alert_id) DO UPDATE SET status = excluded.status,"
            " state = excluded.state, deadline = excluded.deadline, attempt = excluded.attempt,"
            " responder = excluded.responder, updated_at = excluded.updated_at",
            (*key, state.status.value, encode_state(state), core.next_deadline(state),
             state.attempts, current.name if current else None, now, now),
        )  # fmt: skip
        # The live feed follows alerts.updated_at.
        await stage.conn.execute(
            "UPDATE alerts SET updated_at = max(updated_at, ?) WHERE terminal_id = ?"
            " AND alert_id = ?",
            (now, *key),
        )
        fresh = await insert_events(stage.conn, writer.events, stage.sinks, now)
        escalated = any(isinstance(a, core.Escalate) for a in actions)
        return Applied(state, writer.acks, len(fresh) + escalated, refused, key, writer.outcomes)

    # -- reading ----------------------------------------------------------------------

    async def _alert(
        self, conn: aiosqlite.Connection, key: tuple[str, str]
    ) -> dict[str, Any] | None:
        async with conn.execute(
            f"SELECT {_ALERT_COLUMNS} FROM alerts WHERE terminal_id = ? AND alert_id = ?", key
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _alert_doc(row)

    async def _load(self, conn: aiosqlite.Connection, key: tuple[str, str]) -> SequenceState | None:
        async with conn.execute(
            "SELECT state FROM dispatches WHERE terminal_id = ? AND alert_id = ?", key
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else decode_state(row[0])

    async def unstarted(
        self, kinds: Sequence[str], since: float, limit: int
    ) -> list[tuple[str, str]]:
        """Unaccepted alarms of ``kinds`` received after ``since`` with no sequence yet."""
        if not kinds:
            return []
        marks = ",".join("?" * len(kinds))
        async with self._db.reader.execute(
            "SELECT terminal_id, alert_id FROM alerts a WHERE stage_rank < 2 AND received_at >= ?"
            f" AND kind IN ({marks}) AND NOT EXISTS (SELECT 1 FROM dispatches d"
            " WHERE d.terminal_id = a.terminal_id AND d.alert_id = a.alert_id)"
            " ORDER BY received_at LIMIT ?",
            (since, *kinds, limit),
        ) as cursor:
            return [(r[0], r[1]) async for r in cursor]

    async def due(self, now: float, limit: int) -> list[tuple[str, str]]:
        """Sequences whose current call ran out of time."""
        async with self._db.reader.execute(DUE_SQL, (now, limit)) as cursor:
            return [(r[0], r[1]) async for r in cursor]

    async def settled(self, limit: int) -> list[tuple[str, str]]:
        """Sequences still calling or waiting whose alarm was accepted or resolved."""
        async with self._db.reader.execute(SETTLED_SQL, (limit,)) as cursor:
            return [(r[0], r[1]) async for r in cursor]

    async def next_deadline(self) -> float | None:
        async with self._db.reader.execute(
            "SELECT min(deadline) FROM dispatches WHERE deadline IS NOT NULL"
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else float(row[0])

    async def view(self, terminal_id: str, alert_id: str) -> dict[str, Any] | None:
        """The sequence of one alarm with every attempt, for pages and the API."""
        async with self._db.reader.execute(
            "SELECT status, state, deadline, started_at, updated_at FROM dispatches"
            " WHERE terminal_id = ? AND alert_id = ?",
            (terminal_id, alert_id),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        state = decode_state(row["state"])
        async with self._db.reader.execute(
            "SELECT attempt, round, position, name, role, phone, notified_at, deadline,"
            " outcome, ended_at, eta_s FROM dispatch_attempts WHERE terminal_id = ?"
            " AND alert_id = ? ORDER BY attempt",
            (terminal_id, alert_id),
        ) as cursor:
            attempts = [dict(r) async for r in cursor]
        return {
            "terminal_id": terminal_id,
            "alert_id": alert_id,
            "status": state.status.value,
            "round": state.round + 1,
            "rounds": self.policy.rounds,
            "deadline": row["deadline"],
            "started_at": row["started_at"],
            "current": None if state.current is None else state.current.number,
            "responders": [asdict(r) for r in state.responders],
            "accepted_by": None if state.accepted_by is None else asdict(state.accepted_by),
            "attempts": attempts,
        }
