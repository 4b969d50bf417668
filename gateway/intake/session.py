"""One MQTT session of the gateway on the lean client (:mod:`firmware_protocol.mqtt`).

The terminals' broker sends the gateway every uplink of the district, thousands a second,
and the gateway publishes an ack for every alarm stage. On paho/aiomqtt that path cost
more than the gateway's own work: in a profile of the gateway under the alarm-path
benchmark, paho's receive path took ~38 % of the event loop and publishing acks through
aiomqtt ~20 % (a lock, a condition and a future per publish, epoll interest toggled per
packet). A session here is one :class:`~firmware_protocol.mqtt.MqttConnection` (an
``asyncio.Protocol``): a PUBLISH arrives as one call with its topic and payload, is
acknowledged at once (QoS 1; the application's ``received`` ack is what the terminal
waits for), and a publish is one future resolved by its PUBACK; what the session writes
in one turn of the event loop goes out in one write.

Publications in flight are bounded by ``max_inflight`` (the caller waits beyond it),
keepalive is one loop per session, and :meth:`serve` returns — raising
:class:`~firmware_protocol.mqtt.ConnectionLost` — when the connection ends, failing
every publication still waiting for its PUBACK.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable, Sequence

from firmware_protocol.mqtt import (
    MQTT5,
    MQTT311,
    ConnectFailed,
    ConnectionLost,
    MqttConnection,
    MqttError,
    Will,
    open_connection,
    packets,
)

#: CONNECT → CONNACK, and SUBSCRIBE → SUBACK, must each finish within this.
HANDSHAKE_TIMEOUT_S = 10.0

OnMessage = Callable[[str, bytes], None]


class PublishFailed(MqttError):
    """The broker answered a publication with an MQTT 5 failure reason code."""


class Session:
    """A connected session: ``publish``, ``subscribe``, ``serve`` until it ends, ``close``."""

    def __init__(self, on_message: OnMessage, max_inflight: int) -> None:
        self._on_message = on_message
        self._slots = asyncio.Semaphore(max_inflight)
        self._ended: asyncio.Future[MqttError | None] = asyncio.get_running_loop().create_future()
        self.conn: MqttConnection | None = None

    @classmethod
    async def open(
        cls,
        host: str,
        port: int,
        *,
        client_id: str,
        username: str | None,
        password: str | None,
        keepalive_s: int,
        on_message: OnMessage,
        max_inflight: int,
        v5: bool = False,
        clean: bool = True,
        session_expiry_s: int = 0,
        will: Will | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> Session:
        """Connect and wait for an accepting CONNACK; raises an :class:`MqttError`."""
        session = cls(on_message, max_inflight)
        version = MQTT5 if v5 else MQTT311
        connect = packets.connect(
            client_id, username=username, password=password, keepalive_s=keepalive_s,
            will=will, clean=clean, version=version,
            session_expiry_s=session_expiry_s if v5 else 0,
        )  # fmt: skip
        # Coalescing: the acks of one committed batch leave in one write, not a system
        # call each (~30 % of ack publishing's time in a profile of the alarm path).
        conn = MqttConnection(session, client_id, connect, keepalive_s=keepalive_s,
                              version=version, write_limit=None, coalesce=True)  # fmt: skip
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_S):
                await open_connection(host, port, conn, tls=tls)
        except TimeoutError:
            raise ConnectFailed("timeout", f"no CONNACK within {HANDSHAKE_TIMEOUT_S:g} s") from None
        session.conn = conn
        return session

    # --- what the owner calls -------------------------------------------------------

    async def subscribe(self, filters: Sequence[tuple[str, int]]) -> None:
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_S):
                granted = await self._open().subscribe(filters)
        except TimeoutError:
            raise ConnectionLost(f"no SUBACK within {HANDSHAKE_TIMEOUT_S:g} s") from None
        refused = [f for (f, _), code in zip(filters, granted, strict=False) if code >= 0x80]
        if refused or len(granted) != len(filters):
            raise MqttError(f"broker refused the subscription to {refused or filters}")

    async def publish(self, topic: str, payload: bytes | str, qos: int = 1,
                      retain: bool = False) -> None:  # fmt: skip
        """Publish; at QoS 1 return once the broker's PUBACK arrived."""
        body = payload.encode() if isinstance(payload, str) else payload
        async with self._slots:
            conn = self._open()
            if not qos:
                conn.publish(topic, body, retain=retain, token=None, qos=0)
                return
            done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            if not conn.publish(topic, body, retain=retain, token=done):
                raise ConnectionLost("session closed")
            try:
                code = await done
            except asyncio.CancelledError:
                done.cancel()  # nobody is left to hear how it ended
                raise
        if code >= 0x80:
            raise PublishFailed(f"broker refused a publication to {topic}: {code:#04x}")

    async def serve(self) -> None:
        """Keep the session alive until it ends; raises what ended it (the owner's
        :meth:`close` ends it without an error)."""
        conn = self._open()
        while not self._ended.done():
            wait = conn.keepalive(time.monotonic())
            if wait is None:
                break
            await asyncio.wait([self._ended], timeout=max(wait, 0.05))
        error = await self._ended
        if error is not None:
            raise error

    def close(self) -> None:
        """DISCONNECT (the will is discarded) and close."""
        if self.conn is not None:
            self.conn.disconnect()

    def abort(self) -> None:
        """Drop the connection without DISCONNECT (the broker publishes the will)."""
        if self.conn is not None:
            self.conn.abort("session abandoned")

    # --- firmware_protocol.mqtt.Listener ----------------------------------------------

    def on_message(self, conn: MqttConnection, topic: str, payload: bytes) -> None:
        self._on_message(topic, payload)

    def on_published(self, conn: MqttConnection, token: object, code: int) -> None:
        if isinstance(token, asyncio.Future) and not token.done():
            token.set_result(code)

    def on_closed(self, conn: MqttConnection, error: MqttError | None) -> None:
        lost = error or ConnectionLost("session closed")
        for token in conn.unacked():
            if isinstance(token, asyncio.Future) and not token.done():
                token.set_exception(lost)
        if not self._ended.done():
            self._ended.set_result(error)

    # --- internals --------------------------------------------------------------------

    def _open(self) -> MqttConnection:
        if self.conn is None or self._ended.done():
            raise ConnectionLost("session closed")
        return self.conn
