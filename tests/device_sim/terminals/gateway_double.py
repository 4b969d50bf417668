"""A stand-in for the gateway on the broker (user ``gw``): records uplink, sends acks and commands.

Only what the tests need: it acks each alert once it has seen ``ack_on_copy`` copies of it,
with the stages in ``stages`` (in that order, so tests can send them out of order).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import aiomqtt

from firmware_protocol.codec import decode_alert, encode_ack, encode_command
from firmware_protocol.errors import ProtocolError
from firmware_protocol.messages import Ack, Command, Stage
from firmware_protocol.topics import Channel, parse_topic, subscription, topic
from tests.device_sim.terminals.broker import GATEWAY_PASSWORD, GATEWAY_USER


@dataclass(frozen=True, slots=True)
class Uplink:
    """One message the gateway saw."""

    terminal_id: str
    channel: Channel
    payload: bytes
    retain: bool


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it to end.

    Python 3.11's ``asyncio.wait_for`` (inside aiomqtt's publish) swallows a cancellation
    that arrives just as the awaited PUBACK does, so one ``cancel()`` may not be enough.
    """
    for _ in range(50):
        task.cancel()
        await asyncio.wait([task], timeout=0.1)
        if task.done():
            return
    raise RuntimeError(f"task {task.get_name()} does not stop")


@dataclass
class GatewayDouble:
    """Run :meth:`run` in a task; wait on :meth:`wait_for`."""

    port: int
    ack_on_copy: int = 1
    stages: tuple[Stage, ...] = (Stage.RECEIVED,)
    ack_alerts: bool = True
    seen: list[Uplink] = field(default_factory=list)
    copies: Counter[tuple[str, str]] = field(default_factory=Counter)
    client: aiomqtt.Client | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Connect, subscribe to all uplink, answer alerts."""
        async with aiomqtt.Client(
            "127.0.0.1", self.port, username=GATEWAY_USER, password=GATEWAY_PASSWORD
        ) as client:
            self.client = client
            for channel in (Channel.ALERT, Channel.HEALTH, Channel.STATUS):
                await client.subscribe(subscription(channel), qos=1)
            self.ready.set()
            async for message in client.messages:
                await self._handle(message)

    async def _handle(self, message: aiomqtt.Message) -> None:
        terminal_id, channel = parse_topic(message.topic.value)
        assert isinstance(message.payload, bytes)
        self.seen.append(Uplink(terminal_id, channel, message.payload, message.retain))
        if channel is Channel.ALERT and self.ack_alerts:
            await self._maybe_ack(terminal_id, message.payload)
        self._changed.set()
        self._changed = asyncio.Event()

    async def _maybe_ack(self, terminal_id: str, payload: bytes) -> None:
        try:
            alert = decode_alert(terminal_id, payload)
        except ProtocolError:
            return
        self.copies[terminal_id, alert.alert_id] += 1
        if self.copies[terminal_id, alert.alert_id] == self.ack_on_copy:
            for stage in self.stages:
                await self.ack(terminal_id, alert.alert_id, stage)

    async def ack(self, terminal_id: str, alert_id: str, stage: Stage) -> None:
        """Publish one ack."""
        assert self.client is not None
        payload = encode_ack(Ack(alert_id, stage, time.time(), by="test desk"))
        await self.client.publish(topic(terminal_id, Channel.ACK), payload, qos=1)

    async def command(self, terminal_id: str, command: Command) -> None:
        """Publish one command."""
        assert self.client is not None
        await self.client.publish(topic(terminal_id, Channel.CMD), encode_command(command), qos=1)

    def of(self, terminal_id: str, channel: Channel) -> list[Uplink]:
        """What one terminal published on one channel, in order."""
        return [u for u in self.seen if u.terminal_id == terminal_id and u.channel is channel]

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Return once ``predicate()`` holds (re-checked on every message)."""
        while not predicate():
            await self._changed.wait()
