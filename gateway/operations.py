"""What operators and the command center do to alarms, in one place for API and console.

Each action is applied to the store, audited, turned into an event for the command
center where relevant, and told to the elder's terminal as an ack stage.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from firmware_protocol.codec import encode_command
from firmware_protocol.messages import Command, CommandName, Stage
from firmware_protocol.mqtt import MqttError
from firmware_protocol.topics import Channel
from gateway.errors import CommandNotSent
from gateway.intake.pipeline import AckSink
from gateway.store.alerts import Advance, AlertStore
from gateway.store.audit import AuditLog
from gateway.zones import Downlinks, Publisher

COMMAND_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: an operator account or an API token."""

    name: str
    role: str
    region: tuple[str, ...] = ()


class Operations:
    def __init__(
        self,
        alerts: AlertStore,
        audit: AuditLog,
        acks: AckSink,
        client: Callable[[], Awaitable[Publisher]],
        on_new_events: Callable[[], None],
        clock: Callable[[], float] = time.time,
        downlinks: Downlinks | None = None,
    ) -> None:
        self.alerts = alerts
        self._downlinks = downlinks or Downlinks({}, bridged=False)
        self.audit = audit
        self._acks = acks
        self._client = client
        self._on_new_events = on_new_events
        self._clock = clock

    async def advance(
        self, actor: Actor, terminal_id: str, alert_id: str, stage: Stage,
        by: str | None = None, note: str | None = None, eta_s: int | None = None,
    ) -> bool:  # fmt: skip
        """Accept or resolve an alert; False when it was unknown or already past."""
        now = self._clock()
        advance = Advance(terminal_id, alert_id, stage, by or actor.name, note, eta_s)
        moved = await self.alerts.advance([advance], now)
        await self.audit.record(
            actor.name, f"alert.{stage.value}", f"{terminal_id}/{alert_id}",
            {"by": by, "note": note, "eta_s": eta_s, "applied": bool(moved)}, now,
        )  # fmt: skip
        if moved:
            self._on_new_events()
            await self._acks.submit(moved)
        return bool(moved)

    async def annotate(
        self, actor: Actor, terminal_id: str, alert_id: str, action: str, note: str | None
    ) -> bool:
        """Timeline-only actions: assign a responder, add a note, record an escalation."""
        now = self._clock()
        ok = await self.alerts.note(terminal_id, alert_id, action, actor.name, note, now)
        await self.audit.record(
            actor.name, f"alert.{action}", f"{terminal_id}/{alert_id}", {"note": note}, now
        )
        return ok

    async def call_back(self, actor: Actor, terminal_id: str, number: str | None) -> str:
        """Ask the terminal to call back; returns the command id."""
        now = self._clock()
        args = {"operator": actor.name, **({"number": number} if number else {})}
        command = Command(f"cb-{secrets.token_hex(6)}", CommandName.CALL_BACK, now, args)
        name = self._downlinks.topic(terminal_id, Channel.CMD)
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT_S):
                client = await self._client()
                await client.publish(name, encode_command(command), qos=1)
        except TimeoutError as exc:
            raise CommandNotSent(f"call-back to {terminal_id} not sent: no broker link") from exc
        except MqttError as exc:
            raise CommandNotSent(f"call-back to {terminal_id} not sent: {exc}") from exc
        await self.audit.record(actor.name, "terminal.call_back", terminal_id, args, now)
        return command.cmd_id
