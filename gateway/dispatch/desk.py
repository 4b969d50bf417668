"""The dispatch desk: what operators, responders and the command center do to call
sequences and service requests, in one place for the API and the console.

Each action is one commit in the stores; afterwards the terminal is told its new stage
(the ack outbox re-sends it should the process die first), the forwarders are woken
for the new events, and operators' actions are audited.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.core import dispatch as core
from gateway.core.dispatch import Responder
from gateway.core.elders import ElderRecord
from gateway.dispatch import metrics
from gateway.intake.pipeline import AckSink
from gateway.operations import Actor
from gateway.store.audit import AuditLog
from gateway.store.dispatch import Applied, SequenceStore
from gateway.store.elders import ElderStore
from gateway.store.intake import StageUpdate
from gateway.store.services import ServiceResult, ServiceStore


@dataclass(frozen=True, slots=True)
class Stores:
    sequences: SequenceStore
    services: ServiceStore
    elders: ElderStore
    audit: AuditLog


class DispatchDesk:
    """Inputs to call sequences and service requests, with their consequences."""

    def __init__(
        self, stores: Stores, acks: AckSink, on_new_events: Callable[[], None],
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self.sequences = stores.sequences
        self.services = stores.services
        self.elders = stores.elders
        self.audit = stores.audit
        self._acks = acks
        self._on_new_events = on_new_events
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    async def settle(self, acks: list[StageUpdate], events: int) -> None:
        """After a commit: wake the forwarders, tell the terminals."""
        if events or acks:
            self._on_new_events()
        if acks:
            await self._acks.submit(acks)

    async def after(self, applied: Applied) -> Applied:
        """After a call-sequence commit: count, wake, tell the terminal."""
        for outcome in applied.outcomes:
            metrics.ATTEMPTS.labels(outcome).inc()
        await self.settle(applied.acks, applied.events)
        return applied

    # -- call sequences -----------------------------------------------------------

    async def answer(self, token: str, accept: bool, eta_s: int | None) -> Applied | None:
        """A responder accepts or declines (by the token of their call)."""
        applied = await self.sequences.answer(token, accept, eta_s, self._clock())
        if applied is None:
            metrics.ANSWERS.labels("unknown_token").inc()
            return None
        result = "refused" if applied.refused else ("accepted" if accept else "declined")
        metrics.ANSWERS.labels(result).inc()
        return await self.after(applied)

    async def control(
        self, actor: Actor, terminal_id: str, alert_id: str, event: core.Input
    ) -> Applied:
        """An operator skips, reassigns or takes over; audited."""
        now = self._clock()
        applied = await self.sequences.apply(terminal_id, alert_id, event, now)
        detail: dict[str, object] = {"applied": applied.refused is None}
        if isinstance(event, core.Reassign):
            detail["to"] = event.responder.name
        name = type(event).__name__.lower()
        await self.audit.record(actor.name, f"dispatch.{name}", f"{terminal_id}/{alert_id}",
                                detail, now)  # fmt: skip
        return await self.after(applied)

    # -- service requests ---------------------------------------------------------

    async def _service(self, result: ServiceResult, actor: Actor, action: str, target: str,
                       detail: dict[str, object]) -> ServiceResult:  # fmt: skip
        await self.audit.record(actor.name, action, target,
                                {**detail, "applied": result.applied}, self._clock())  # fmt: skip
        await self.settle(result.acks, result.events)
        return result

    async def schedule(
        self, actor: Actor, terminal_id: str, alert_id: str, at: float | None
    ) -> ServiceResult:
        result = await self.services.schedule(terminal_id, alert_id, at, actor.name, self._clock())
        return await self._service(result, actor, "service.scheduled",
                                   f"{terminal_id}/{alert_id}", {"at": at})  # fmt: skip

    async def assign(
        self, actor: Actor, terminal_id: str, alert_id: str, assignee: Responder
    ) -> ServiceResult:
        result = await self.services.assign(
            terminal_id, alert_id, assignee, actor.name, self._clock()
        )
        return await self._service(result, actor, "service.assigned",
                                   f"{terminal_id}/{alert_id}", {"to": assignee.name})  # fmt: skip

    async def complete(
        self, actor: Actor, terminal_id: str, alert_id: str, note: str | None
    ) -> ServiceResult:
        result = await self.services.complete(terminal_id, alert_id, note, actor.name,
                                              self._clock())  # fmt: skip
        return await self._service(result, actor, "service.completed",
                                   f"{terminal_id}/{alert_id}", {"note": note})  # fmt: skip

    # -- elders' records -----------------------------------------------------------

    async def access(self, actor: Actor, terminal_id: str, reason: str) -> str:
        """The access instructions, shown to one person and audited."""
        record = await self.elders.get(terminal_id, with_access=True)
        await self.audit.record(actor.name, "elder.access_shown", terminal_id,
                                {"reason": reason}, self._clock())  # fmt: skip
        return record.access if record else ""

    async def save_record(self, actor: Actor, record: ElderRecord) -> list[str]:
        """Store an edited record (audited in the same commit)."""
        return await self.elders.put(record, actor.name, self._clock())
