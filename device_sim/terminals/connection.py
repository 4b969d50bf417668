"""Keeping every terminal connected: paced connection attempts, introduction, keepalive,
reconnect with backoff — with a fixed pool of worker tasks and one heap of due dates,
however many terminals there are.

A terminal waits in a queue for a connection attempt; a worker takes it, waits for its
slot (``connect_rate``), connects (TCP, TLS when the broker URL says ``mqtts``, CONNECT
with the terminal's own login and will) and follows the protocol's order (§4): SUBSCRIBE
to ``ack`` and ``cmd`` and wait for the SUBACK, then the retained ``online`` status,
then every alert still waiting for its ``received`` ack. From then on the connection
lives on its own (an :class:`~asyncio.Protocol`); the heap reminds it of its keepalive,
and when it closes the terminal goes back into the queue after a backoff. On shutdown a
terminal says goodbye with a retained ``offline`` status and DISCONNECT; a drop leaves
that to the will.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterable
from typing import Protocol

from device_sim.terminals.backoff import RetrySchedule
from device_sim.terminals.link import connect_packet, version
from device_sim.terminals.options import Broker
from device_sim.terminals.terminal import Publication, Terminal
from device_sim.terminals.timers import Timers
from device_sim.terminals.uplink import Uplink
from firmware_protocol.mqtt import (
    ConnectFailed,
    ConnectionLost,
    ConnectRefused,
    MqttConnection,
    MqttError,
    client_context,
    open_connection,
)
from firmware_protocol.topics import Channel

log = logging.getLogger(__name__)

#: How long terminals that are shut down get to say goodbye and close.
GOODBYE_TIMEOUT_S = 2.0


class ConnectionEvents(Protocol):
    """What the fleet supplies to, and learns from, the terminals' connections."""

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

    def connect_failed(self, terminal: Terminal, reason: str) -> None:
        """A connection attempt failed for ``reason`` (a short, countable label)."""
        ...

    def received(self, terminal: Terminal, topic: str, payload: bytes) -> None:
        """A downlink message arrived (``ack`` or ``cmd``)."""
        ...

    def sent(self, terminal: Terminal, publication: Publication) -> None:
        """The broker acknowledged a publication (PUBACK)."""
        ...


def failure_reason(error: BaseException) -> str:
    """A short label for a failed attempt, e.g. ``refused: bad user name or password``."""
    match error:
        case ConnectRefused():
            return f"refused: {error.reason}"
        case ConnectFailed():
            return str(error)
        case ConnectionLost():
            return "lost during the handshake"
        case TimeoutError():
            return "timeout"
        case MqttError():
            return f"mqtt: {error}"
    return type(error).__name__


class Connector:
    """Connects terminals on :meth:`work` tasks; :meth:`tick` runs its due dates."""

    def __init__(
        self,
        broker: Broker,
        events: ConnectionEvents,
        uplink: Uplink,
        *,
        retry: RetrySchedule,
        rate: float = 0.0,
        attempt_s: float = 30.0,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._broker = broker
        self._events = events
        self._uplink = uplink
        self._retry = retry
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._attempt_s = attempt_s
        self._clock = clock
        self._rng = rng or random.Random()
        self._tls = client_context(broker.ca_file) if broker.ca_file is not None else None
        self._queue: asyncio.Queue[Terminal] = asyncio.Queue()
        # A terminal: due for a reconnect; a connection: due for its keepalive check.
        # The objects themselves, not a new pair per due date (see timers.py).
        self._timers: Timers[Terminal | MqttConnection] = Timers()
        self._next_slot = 0.0
        self._closing = False
        self._open: set[MqttConnection] = set()
        self._all_closed = asyncio.Event()
        self._all_acked = asyncio.Event()
        self.handler_errors = 0  # downlink messages whose handling raised (a bug: logged)

    # --- the queue of terminals waiting for a connection --------------------------------

    def start(self, terminals: Iterable[Terminal]) -> None:
        """Queue every terminal for its first connection attempt."""
        for terminal in terminals:
            self._enqueue(terminal)

    def _enqueue(self, terminal: Terminal) -> None:
        if not terminal.queued and not self._closing:
            terminal.queued = True
            self._queue.put_nowait(terminal)  # at most one entry per terminal: bounded

    async def work(self) -> None:
        """One worker: take a terminal, wait for its slot, connect it; forever."""
        while True:
            terminal = await self._queue.get()
            terminal.queued = False
            if terminal.conn is not None:
                continue
            await self._pace()
            await self._attempt(terminal)

    async def _pace(self) -> None:
        if not self._interval:
            return
        now = time.monotonic()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self._interval
        if slot > now:
            await asyncio.sleep(slot - now)

    async def _attempt(self, terminal: Terminal) -> None:
        endpoint = terminal.endpoint
        conn = MqttConnection(
            self,
            terminal,
            connect_packet(terminal.credential, self._broker),
            keepalive_s=self._broker.keepalive_s,
            version=version(self._broker),
        )
        tls = self._tls if endpoint.tls else None
        try:
            async with asyncio.timeout(self._attempt_s):
                await open_connection(endpoint.host, endpoint.port, conn, tls=tls)
                terminal.conn = conn
                self._open.add(conn)
                granted = await conn.subscribe(
                    [(terminal.topic(Channel.ACK), 1), (terminal.topic(Channel.CMD), 1)]
                )
        except (MqttError, TimeoutError) as exc:
            if terminal.conn is conn:
                conn.abort("introduction failed")  # on_closed reconnects
            else:
                self._failed(terminal, failure_reason(exc))
            return
        if any(code >= 0x80 for code in granted):
            conn.abort("subscription refused")
            return
        self._introduce(terminal)

    def _introduce(self, terminal: Terminal) -> None:
        terminal.failures = 0
        for publication in self._events.introduction(terminal):
            self._uplink.put(terminal, publication)
        terminal.online = True
        first = not terminal.ever_online
        terminal.ever_online = True
        self._events.connected(terminal, first)
        conn = terminal.conn
        assert conn is not None
        # Spread the keepalive checks instead of lining them up behind the connect burst.
        first_check = conn.keepalive_s * self._rng.uniform(0.5, 0.75)
        self._timers.add(self._clock() + first_check, conn)

    def _failed(self, terminal: Terminal, reason: str) -> None:
        self._events.connect_failed(terminal, reason)
        terminal.failures += 1
        self._retry_later(terminal)

    def _retry_later(self, terminal: Terminal) -> None:
        if self._closing:
            return
        now = self._clock()
        at = max(now + self._retry.delay(max(terminal.failures - 1, 0)), terminal.offline_until)
        self._timers.add(at, terminal)

    # --- due dates ----------------------------------------------------------------------

    def tick(self, now: float) -> None:
        """Run what is due: reconnects and keepalive checks."""
        monotonic = time.monotonic()
        for due in self._timers.pop_due(now):
            if isinstance(due, Terminal):
                self._enqueue(due)
                continue
            terminal = due.tag
            assert isinstance(terminal, Terminal)
            if terminal.conn is due:  # not a connection closed since
                wait = due.keepalive(monotonic)
                if wait is not None:
                    self._timers.add(now + wait, due)

    # --- mqtt.Listener ------------------------------------------------------------------

    def on_message(self, conn: MqttConnection, topic: str, payload: bytes) -> None:
        """Hand a downlink message to the fleet (a failure is a bug: counted, logged)."""
        terminal = conn.tag
        assert isinstance(terminal, Terminal)
        try:
            self._events.received(terminal, topic, payload)
        except Exception:  # per-message guard: one bad message must not end the connection
            self.handler_errors += 1
            log.exception("terminal %s: failed to handle a downlink message", terminal.id)

    def on_published(self, conn: MqttConnection, token: object, code: int) -> None:
        """Count a PUBACK (MQTT 5: a failure code counts as a failed publication)."""
        terminal = conn.tag
        assert isinstance(terminal, Terminal)
        assert isinstance(token, Publication)
        stats = self._uplink.stats
        stats.in_flight -= 1
        if not stats.in_flight:
            self._all_acked.set()
        if code >= 0x80:
            stats.failed += 1
        else:
            self._events.sent(terminal, token)

    def on_closed(self, conn: MqttConnection, error: MqttError | None) -> None:
        """An established connection ended: offline, and back into the queue later."""
        terminal = conn.tag
        assert isinstance(terminal, Terminal)
        self._open.discard(conn)
        if not self._open:
            self._all_closed.set()
        unacked = len(conn.unacked())
        self._uplink.stats.failed += unacked
        self._uplink.stats.in_flight -= unacked
        if terminal.conn is conn:
            terminal.conn = None
        if terminal.online:
            terminal.online = False
            self._events.disconnected(terminal)
        log.debug("terminal %s: connection ended: %s", terminal.id, error)
        self._retry_later(terminal)

    # --- shutdown -----------------------------------------------------------------------

    async def close_all(self, terminals: Iterable[Terminal]) -> None:
        """Goodbye from every terminal: retained ``offline``, the PUBACKs, DISCONNECT."""
        self._closing = True
        self._timers.clear()
        connections = []
        for terminal in terminals:
            if terminal.conn is not None:
                connections.append(terminal.conn)
                if terminal.online:
                    self._uplink.put(terminal, self._events.farewell(terminal))
        try:
            async with asyncio.timeout(GOODBYE_TIMEOUT_S):
                await self._settle(self._all_acked, lambda: self._uplink.stats.in_flight <= 0)
                for conn in connections:
                    conn.disconnect()
                await self._settle(self._all_closed, lambda: not self._open)
        except TimeoutError:
            log.warning("%d connections did not close in order in time", len(self._open))
        for conn in list(self._open):
            conn.abort("shutting down")

    @staticmethod
    async def _settle(event: asyncio.Event, done: Callable[[], bool]) -> None:
        while not done():
            event.clear()
            await event.wait()
