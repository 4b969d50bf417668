"""Keeping one terminal connected: connect, introduce, receive; reconnect with backoff.

The introduction follows the protocol's order: subscribe to ``ack`` and ``cmd`` first,
then the retained ``online`` status, then every alert still waiting for its ``received``
ack. On shutdown a terminal says goodbye with a retained ``offline`` status; a drop
(see :func:`~device_sim.terminals.link.close_ungracefully`) leaves that to the will.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

import aiomqtt

from device_sim.terminals.backoff import RetrySchedule
from device_sim.terminals.link import open_client
from device_sim.terminals.options import Broker
from device_sim.terminals.terminal import Publication, Terminal
from firmware_protocol.topics import Channel

log = logging.getLogger(__name__)

#: How long a terminal that is shut down tries to publish its ``offline`` status.
GOODBYE_TIMEOUT_S = 2.0


class ConnectionEvents(Protocol):
    """What the fleet supplies to, and learns from, a terminal's connection."""

    def introduction(self, terminal: Terminal) -> list[Publication]:
        """Publications right after subscribing: ``online`` status, then pending alerts."""
        ...

    def farewell(self, terminal: Terminal) -> Publication:
        """The publication of a terminal shut down in order (retained ``offline``)."""
        ...

    def connected(self, terminal: Terminal, first: bool) -> None:
        """The terminal is online (``first``: for the first time)."""
        ...

    def disconnected(self, terminal: Terminal) -> None:
        """The terminal went offline."""
        ...

    def connect_failed(self, terminal: Terminal, error: aiomqtt.MqttError) -> None:
        """A connection attempt failed."""
        ...

    def received(self, terminal: Terminal, topic: str, payload: bytes) -> None:
        """A downlink message arrived (``ack`` or ``cmd``)."""
        ...

    def sent(self, terminal: Terminal, publication: Publication) -> None:
        """A publication of the introduction went out."""
        ...


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes | bytearray):
        return bytes(payload)
    return b"" if payload is None else str(payload).encode()


class Connector:
    """Runs :meth:`keep_connected` for each terminal; connection attempts share ``gate``."""

    def __init__(
        self,
        broker: Broker,
        events: ConnectionEvents,
        *,
        gate: asyncio.Semaphore,
        retry: RetrySchedule,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._broker = broker
        self._events = events
        self._gate = gate
        self._retry = retry
        self._clock = clock
        self._ever: set[str] = set()
        self.handler_errors = 0  # downlink messages whose handling raised (a bug: logged)

    async def keep_connected(self, terminal: Terminal) -> None:
        """Stay connected until cancelled, sitting out ``terminal.offline_until``."""
        failures = 0
        while True:
            away = terminal.offline_until - self._clock()
            if away > 0:
                await asyncio.sleep(away)
            if await self._session(terminal):
                failures = 0
            else:
                failures += 1
            await asyncio.sleep(self._retry.delay(max(failures - 1, 0)))

    async def _session(self, terminal: Terminal) -> bool:
        """One connection, until it breaks; True when it got established."""
        client = open_client(terminal.credential, self._broker)
        established = False
        try:
            async with contextlib.AsyncExitStack() as stack:
                async with self._gate:
                    await stack.enter_async_context(client)
                    await self._introduce(terminal, client)
                established = True
                await self._serve(terminal, client)
        except aiomqtt.MqttError as exc:
            if not established:
                self._events.connect_failed(terminal, exc)
            log.debug("terminal %s: connection ended: %s", terminal.id, exc)
        return established

    async def _introduce(self, terminal: Terminal, client: aiomqtt.Client) -> None:
        await client.subscribe([(terminal.topic(Channel.ACK), 1), (terminal.topic(Channel.CMD), 1)])
        for publication in self._events.introduction(terminal):
            await _publish(client, terminal, publication)
            self._events.sent(terminal, publication)

    async def _serve(self, terminal: Terminal, client: aiomqtt.Client) -> None:
        first = terminal.id not in self._ever
        self._ever.add(terminal.id)
        terminal.client = client
        self._events.connected(terminal, first)
        try:
            await self._receive(terminal, client)
        except asyncio.CancelledError:
            await self._say_goodbye(terminal, client)
            raise
        finally:
            terminal.client = None
            self._events.disconnected(terminal)

    async def _receive(self, terminal: Terminal, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            try:
                self._events.received(
                    terminal, message.topic.value, _payload_bytes(message.payload)
                )
            except Exception:  # per-message guard: one bad message must not end the session
                self.handler_errors += 1
                log.exception("terminal %s: failed to handle a downlink message", terminal.id)

    async def _say_goodbye(self, terminal: Terminal, client: aiomqtt.Client) -> None:
        with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
            async with asyncio.timeout(GOODBYE_TIMEOUT_S):
                await _publish(client, terminal, self._events.farewell(terminal))


async def _publish(client: aiomqtt.Client, terminal: Terminal, publication: Publication) -> None:
    await client.publish(
        terminal.topic(publication.channel), publication.payload, qos=1, retain=publication.retain
    )
