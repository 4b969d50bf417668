"""One MQTT connection as an :class:`asyncio.Protocol`: no task, no timer of its own.

The owner opens it with :func:`open_connection`, publishes without waiting (PUBACKs come
back through :meth:`Listener.on_published`), and calls :meth:`MqttConnection.keepalive`
from its own shared timer, so a hundred thousand connections cost one scheduler, not a
hundred thousand tasks and timers. Incoming QoS 1 messages are acknowledged at once
(all of one read in one write).

A connection that publishes in bursts (the gateway's acks: hundreds of alarms committed
in one transaction) may ``coalesce``: what it writes during one turn of the event loop
goes out in one write at the end of that turn, not one system call per packet.
"""

from __future__ import annotations

import asyncio
import enum
import ssl
import time
from collections.abc import Sequence
from typing import Protocol, cast

from firmware_protocol.mqtt import packets
from firmware_protocol.mqtt.errors import (
    ConnectFailed,
    ConnectionLost,
    ConnectRefused,
    MalformedPacket,
    MqttError,
)

#: Ping after this share of the keepalive without sending anything.
PING_AFTER = 0.75
#: Unsent bytes a connection may hold before :meth:`MqttConnection.publish` refuses more.
WRITE_BUFFER_LIMIT = 64 * 1024


class Listener(Protocol):
    """What a connection reports to its owner (called from the event loop; must not raise)."""

    def on_message(self, conn: MqttConnection, topic: str, payload: bytes) -> None:
        """An application message arrived."""
        ...

    def on_published(self, conn: MqttConnection, token: object, code: int) -> None:
        """The broker acknowledged the publication ``token`` (MQTT 5: ``code`` ≥ 0x80 failed)."""
        ...

    def on_closed(self, conn: MqttConnection, error: MqttError | None) -> None:
        """An established connection ended (``None``: our own DISCONNECT)."""
        ...


class State(enum.Enum):
    CONNECTING = "connecting"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"


class MqttConnection(asyncio.Protocol):
    """A client connection; ``tag`` is the owner's (e.g. the terminal it belongs to)."""

    __slots__ = (
        "_closing_cleanly",
        "_connect",
        "_decoder",
        "_error",
        "_inflight",
        "_next_id",
        "_opened",
        "_pending",
        "_pending_size",
        "_ping_sent_at",
        "_unacked_since",
        "_waiter",
        "_waiting_for",
        "_write_limit",
        "keepalive_s",
        "last_received",
        "last_sent",
        "listener",
        "state",
        "tag",
        "transport",
        "version",
    )

    def __init__(
        self,
        listener: Listener,
        tag: object,
        connect_packet: bytes,
        *,
        keepalive_s: int,
        version: int = packets.MQTT311,
        write_limit: int | None = WRITE_BUFFER_LIMIT,
        coalesce: bool = False,
    ) -> None:
        """``write_limit``: unsent bytes beyond which :meth:`publish` refuses (``None``:
        no limit, for an owner that bounds its publications in flight itself).
        ``coalesce``: hold what is written until the event loop's current turn ends,
        then write it at once (one system call for a burst of publications)."""
        self.listener = listener
        self._write_limit = write_limit
        self.tag = tag
        self.version = version
        self.keepalive_s = keepalive_s
        self.state = State.CONNECTING
        self.transport: asyncio.Transport | None = None
        self.last_sent = self.last_received = time.monotonic()
        self._connect: bytes | None = connect_packet
        self._decoder = packets.Decoder(version)
        self._error: MqttError | None = None
        self._opened = False
        self._closing_cleanly = False
        self._waiter: asyncio.Future[object] | None = None
        self._waiting_for = 0  # packet id of the SUBACK the waiter wants; 0: the CONNACK
        self._inflight: dict[int, object] | None = None
        self._next_id = 0
        self._ping_sent_at = 0.0
        self._unacked_since = 0.0
        self._pending: list[bytes] | None = [] if coalesce else None
        self._pending_size = 0

    def __repr__(self) -> str:
        return f"MqttConnection({self.tag!r}, {self.state.value})"

    # --- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (asyncio's, its TLS wrapper's, or another loop's).
        self.transport = cast(asyncio.Transport, transport)
        if self._connect is not None:
            self._write(self._connect)
            self._connect = None

    def data_received(self, data: bytes) -> None:
        self.last_received = time.monotonic()
        acks: list[bytes] = []
        try:
            for packet in self._decoder.feed(data):
                if type(packet) is packets.Publish:
                    self._received(packet, acks)
                else:
                    self._handle(packet)
        except MalformedPacket as exc:
            self._fail(exc)
            return
        if acks and self.transport is not None and not self.transport.is_closing():
            # One write for every PUBACK of this read: a busy subscriber gets dozens of
            # PUBLISHes per read, and a send per PUBACK costs a system call each.
            self._write(b"".join(acks))

    def connection_lost(self, exc: Exception | None) -> None:
        self.state = State.CLOSED
        error = self._error
        if error is None and not self._closing_cleanly:
            error = ConnectionLost(str(exc) if exc else "connection closed by the broker")
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error or ConnectionLost("connection closed"))
        self._waiter = None
        if self._opened:
            self.listener.on_closed(self, error)

    # --- sending ------------------------------------------------------------------------

    def publish(
        self, topic: str, payload: bytes, *, retain: bool, token: object, qos: int = 1
    ) -> bool:
        """Publish; False when not open or the write buffer is over its limit. At QoS 1
        ``token`` comes back through :meth:`Listener.on_published` with the PUBACK; a
        QoS 0 message is done once written and reports nothing."""
        transport = self.transport
        if self.state is not State.OPEN or transport is None:
            return False
        limit = self._write_limit
        if limit is not None and transport.get_write_buffer_size() + self._pending_size > limit:
            return False
        if not qos:
            self._write(packets.publish(topic, payload, qos=0, retain=retain,
                                        version=self.version))  # fmt: skip
            return True
        inflight = self._inflight
        if inflight is None:
            inflight = self._inflight = {}
        if not inflight:
            self._unacked_since = time.monotonic()
        packet_id = self._allocate(inflight)
        inflight[packet_id] = token
        self._write(
            packets.publish(
                topic, payload, qos=1, retain=retain, packet_id=packet_id, version=self.version
            )
        )
        return True

    async def subscribe(self, filters: Sequence[tuple[str, int]]) -> tuple[int, ...]:
        """SUBSCRIBE and wait for the SUBACK's granted QoS (the caller sets the timeout)."""
        if self.state is not State.OPEN or self._waiter is not None:
            raise MqttError("subscribe needs an open connection with no request pending")
        packet_id = self._allocate(self._inflight or {})
        waiter: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._waiter, self._waiting_for = waiter, packet_id
        self._write(packets.subscribe(packet_id, filters, self.version))
        try:
            granted = await waiter
        finally:
            self._waiter = None
        assert isinstance(granted, tuple)
        return granted

    @property
    def awaiting_pingresp(self) -> bool:
        """True between a PINGREQ and the next packet from the broker."""
        return bool(self._ping_sent_at) and self.last_received < self._ping_sent_at

    def keepalive(self, now: float) -> float | None:
        """Keep the link alive; returns the seconds until the next call (None: closed).

        Pings once nothing was sent for ``PING_AFTER`` × keepalive (so the broker never
        waits a whole keepalive), and drops a link whose PINGRESP or PUBACK is overdue.
        """
        if self.state is not State.OPEN:
            return None
        keepalive = self.keepalive_s
        pinged = self._ping_sent_at
        if pinged and self.last_received < pinged:
            if now - pinged >= keepalive / 2:
                self._fail(ConnectionLost("no PINGRESP within keepalive"))
                return None
            return pinged + keepalive / 2 - now
        if self._inflight and now - self._unacked_since > keepalive:
            self._fail(ConnectionLost("no PUBACK within keepalive"))
            return None
        idle = now - self.last_sent
        if idle >= PING_AFTER * keepalive:
            self._ping_sent_at = now
            self._write(packets.PINGREQ)
            return keepalive / 2
        self._ping_sent_at = 0.0
        return PING_AFTER * keepalive - idle

    def disconnect(self) -> None:
        """Close in order: DISCONNECT, then close (the will is discarded)."""
        if self.state is State.OPEN and self.transport is not None:
            self._write(packets.DISCONNECT)
            self._flush()
            self.state = State.CLOSING
            self._closing_cleanly = True
            self.transport.close()

    def abort(self, reason: str = "connection dropped") -> None:
        """Cut the connection without DISCONNECT, as a power cut would: the will fires."""
        if self.state in (State.CONNECTING, State.OPEN):
            self._error = self._error or ConnectionLost(reason)
            self._fail(self._error)

    def unacked(self) -> list[object]:
        """Tokens of publications the broker has not acknowledged (emptied)."""
        tokens = list(self._inflight.values()) if self._inflight else []
        self._inflight = None
        return tokens

    # --- internals ----------------------------------------------------------------------

    def _write(self, data: bytes) -> None:
        pending = self._pending
        if pending is None:
            assert self.transport is not None
            self.transport.write(data)
            self.last_sent = time.monotonic()
            return
        if not pending:
            asyncio.get_running_loop().call_soon(self._flush)
        pending.append(data)
        self._pending_size += len(data)

    def _flush(self) -> None:
        """Write what this turn of the event loop queued, in one write."""
        pending = self._pending
        if not pending:
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        pending.clear()
        self._pending_size = 0
        transport = self.transport
        if transport is None or transport.is_closing():
            return  # aborted meanwhile: what was queued dies with the connection
        transport.write(data)
        self.last_sent = time.monotonic()

    def _allocate(self, inflight: dict[int, object]) -> int:
        for _ in range(0xFFFF):
            self._next_id = self._next_id % 0xFFFF + 1
            if self._next_id not in inflight and self._next_id != self._waiting_for:
                return self._next_id
        raise MqttError("no free packet id: 65535 publications unacknowledged")

    def _fail(self, error: MqttError) -> None:
        self._error = error
        if self.state is not State.CLOSED:
            self.state = State.CLOSING
        if self.transport is not None:
            self.transport.abort()

    def _handle(self, packet: packets.Packet) -> None:
        match packet:
            case packets.PubAck(packet_id, code):
                token = self._inflight.pop(packet_id, None) if self._inflight else None
                if token is not None:
                    self._unacked_since = self.last_received
                    self.listener.on_published(self, token, code)
            case packets.PingResp():
                pass  # last_received is what keepalive() looks at
            case packets.ConnAck(_, code):
                self._connack(code)
            case packets.SubAck(packet_id, granted):
                waiter = self._waiter
                if waiter is None or packet_id != self._waiting_for or waiter.done():
                    raise MalformedPacket(f"SUBACK {packet_id} nobody asked for")
                waiter.set_result(granted)
            case packets.Disconnect(code):
                self._fail(ConnectionLost(f"broker sent DISCONNECT, reason {code:#04x}"))

    def _received(self, packet: packets.Publish, acks: list[bytes]) -> None:
        """An incoming PUBLISH: its PUBACK (QoS 1) joins ``acks``, written after the read."""
        if packet.qos and packet.packet_id is not None:
            acks.append(packets.puback(packet.packet_id))
        if self.state is State.OPEN:
            self.listener.on_message(self, packet.topic, packet.payload)

    def _connack(self, code: int) -> None:
        waiter = self._waiter
        if self.state is not State.CONNECTING or waiter is None:
            raise MalformedPacket("CONNACK after the connection was established")
        if code:
            self._fail(ConnectRefused(code))
            waiter.set_exception(ConnectRefused(code))
            return
        self.state = State.OPEN
        self._opened = True
        waiter.set_result(())


async def open_connection(
    host: str,
    port: int,
    connection: MqttConnection,
    *,
    tls: ssl.SSLContext | None = None,
) -> MqttConnection:
    """Connect ``connection`` and wait for an accepting CONNACK (the caller sets the timeout).

    Raises :class:`ConnectFailed` (TCP or TLS), :class:`ConnectRefused` or
    :class:`ConnectionLost`; a cancelled wait aborts the connection.
    """
    loop = asyncio.get_running_loop()
    handshake: asyncio.Future[object] = loop.create_future()
    connection._waiter = handshake
    try:
        await loop.create_connection(
            lambda: connection, host, port, ssl=tls, server_hostname=host if tls else None
        )
    except ssl.SSLCertVerificationError as exc:
        raise ConnectFailed("tls", f"certificate verify failed: {exc.verify_message}") from exc
    except ssl.SSLError as exc:
        raise ConnectFailed("tls", exc.reason or str(exc)) from exc
    except OSError as exc:
        raise ConnectFailed("tcp", exc.strerror or str(exc)) from exc
    try:
        await handshake
    except BaseException:
        connection.abort("handshake abandoned")
        raise
    finally:
        connection._waiter = None
    return connection
