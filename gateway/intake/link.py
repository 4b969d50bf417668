"""The gateway's connection to the terminals' broker: subscribe, batch, reconnect.

paho-mqtt acknowledges QoS 1 at the MQTT level on receipt; the alarm path's real
acknowledgement is the application ``received`` ack, sent only after the commit, and a
terminal retransmits until it has one. Losing in-memory messages on a crash or
reconnect therefore delays an alert but never loses it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from firmware_protocol.topics import UPLINK, subscription
from gateway import availability
from gateway.config import IntakeConfig, MqttConfig
from gateway.core.backoff import Backoff
from gateway.intake.queue import IntakeQueue, factory
from gateway.intake.router import Raw
from gateway.linkstate import LinkState

log = logging.getLogger(__name__)

RECONNECT = Backoff(base=0.5, cap=30.0)
NO_DELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

Handler = Callable[[list[Raw]], Awaitable[None]]


class BrokerLink:
    """Owns the aiomqtt client; ``run()`` keeps it connected and feeds ``handler``."""

    def __init__(
        self,
        mqtt: MqttConfig,
        intake: IntakeConfig,
        handler: Handler,
        backoff: Backoff = RECONNECT,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._cfg = mqtt
        self._intake = intake
        self._handler = handler
        self._backoff = backoff
        self._tls = tls
        self._queue: IntakeQueue | None = None
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self.state = LinkState("terminals", f"{mqtt.host}:{mqtt.port}")
        self.availability_topic = availability.availability_topic(
            availability.TERMINALS_PREFIX, mqtt.client_id
        )

    @property
    def connected(self) -> bool:
        return self._client is not None

    async def wait_connected(self) -> aiomqtt.Client:
        """The live client, once there is one."""
        while self._client is None:
            self._connected.clear()
            await self._connected.wait()
        return self._client

    def _set_queue(self, queue: IntakeQueue) -> None:
        self._queue = queue

    def _make_client(self) -> aiomqtt.Client:
        v5 = self._cfg.protocol == "5"
        kwargs: dict[str, Any] = {}
        if v5:
            # Ask the broker to keep the session for a minute across a gateway restart.
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 60
            kwargs["properties"] = props
        else:
            # A lone gateway keeps its session: the broker queues what arrives while it
            # restarts. In a shared group a dead member must not hold messages back.
            kwargs["clean_session"] = self._cfg.share_group is not None
        return aiomqtt.Client(
            self._cfg.host,
            self._cfg.port,
            username=self._cfg.username,
            password=self._cfg.password.get_secret_value() or None,
            identifier=self._cfg.client_id,
            protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
            keepalive=self._cfg.keepalive_s,
            max_inflight_messages=self._cfg.max_inflight,
            queue_type=factory(  # type: ignore[arg-type]
                self._intake.alert_queue_max, self._intake.telemetry_queue_max, self._set_queue
            ),
            tls_context=self._tls,
            will=availability.last_will(self.availability_topic),
            # Acks are small writes on a busy socket: without this, Nagle's algorithm
            # holds them for the peer's delayed ACK (~40 ms on Linux).
            socket_options=[NO_DELAY],
            **kwargs,
        )

    async def run(self) -> None:
        """Connect, consume, and reconnect with backoff for as long as it runs."""
        attempt = 0
        while True:
            try:
                async with self._make_client() as client:
                    attempt = 0
                    await self._on_connect(client)
                    try:
                        await self._consume(client)
                    except asyncio.CancelledError:
                        await availability.withdraw(client, self.availability_topic)
                        raise
            except aiomqtt.MqttError as exc:
                self.state.down(exc)
            finally:
                self._client = None
            await asyncio.sleep(self._backoff.delay(attempt))
            attempt += 1

    async def _on_connect(self, client: aiomqtt.Client) -> None:
        # Acks are published many at a time on purpose; don't warn about it.
        client.pending_calls_threshold = 10 * self._cfg.max_inflight
        for channel in sorted(UPLINK):
            await client.subscribe(subscription(channel, self._cfg.share_group), qos=1)
        await availability.announce(client, self.availability_topic)
        self._client = client
        self._connected.set()
        self.state.up()
        log.info("connected to broker %s:%s", self._cfg.host, self._cfg.port)

    async def _consume(self, client: aiomqtt.Client) -> None:
        limit = self._intake.batch_max
        async for first in client.messages:
            rest = self._queue.get_batch(limit - 1) if self._queue else []
            await self._handler([_raw(m) for m in (first, *rest)])


def _raw(message: aiomqtt.Message) -> Raw:
    payload = message.payload
    if isinstance(payload, str):
        body = payload.encode()
    elif isinstance(payload, bytes | bytearray):
        body = bytes(payload)
    else:
        body = b"" if payload is None else str(payload).encode()
    return Raw(message.topic.value, body)
