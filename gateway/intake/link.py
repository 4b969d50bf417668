"""The gateway's connection to the terminals' broker: two sessions, one intake.

The gateway holds two MQTT sessions ("lanes"), each with its own queue on the broker:
``alerts`` subscribes to every terminal's alarms and carries the downlinks (acks,
commands); ``telemetry`` subscribes to health and status and to the brokers' own state
(drop counts, bridges). Mosquitto queues per session, so however much health and status
piles up at the broker — a flood, a backlog after an outage — an alarm never waits behind
it there. Both sessions feed one :class:`~gateway.intake.queue.IntakeQueue` (alerts
first), drained by one consumer in batches of up to ``intake.batch_max``.

paho-mqtt acknowledges QoS 1 at the MQTT level on receipt; the alarm path's real
acknowledgement is the application ``received`` ack, sent only after the commit, and a
terminal retransmits until it has one. Losing in-memory messages on a crash therefore
delays an alert but never loses it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from firmware_protocol.topics import Channel
from gateway import metrics, tls
from gateway.config import IntakeConfig, MqttConfig
from gateway.core.backoff import Backoff
from gateway.intake.monitor import BrokerMonitor
from gateway.intake.queue import bounded_queue, feeding
from gateway.intake.router import Raw
from gateway.zones import monitor_filters, uplink_filters

log = logging.getLogger(__name__)

RECONNECT = Backoff(base=0.5, cap=30.0)
NO_DELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
#: The telemetry session's client id is the alerts session's plus this. A ``.`` never
#: appears in a terminal id, so no terminal can hold it.
TELEMETRY_SUFFIX = ".telemetry"

Handler = Callable[[list[Raw]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Lane:
    """One MQTT session of the gateway, with its own queue on the broker."""

    name: str
    client_id: str
    filters: tuple[str, ...]


def lanes_for(cfg: MqttConfig) -> tuple[Lane, Lane]:
    alerts = uplink_filters(cfg.bridged, cfg.share_group, [Channel.ALERT])
    telemetry = uplink_filters(cfg.bridged, cfg.share_group, [Channel.HEALTH, Channel.STATUS])
    return (
        Lane("alerts", cfg.client_id, tuple(alerts)),
        Lane("telemetry", cfg.client_id + TELEMETRY_SUFFIX,
             (*telemetry, *monitor_filters(cfg.bridged))),
    )  # fmt: skip


class BrokerLink:
    """Owns the gateway's MQTT sessions; ``run()`` keeps them connected and feeds ``handler``."""

    def __init__(
        self,
        mqtt: MqttConfig,
        intake: IntakeConfig,
        handler: Handler,
        backoff: Backoff = RECONNECT,
        tls_context: ssl.SSLContext | None = None,
        broker_name: str = "site",
    ) -> None:
        self._cfg = mqtt
        self._intake = intake
        self._handler = handler
        self._backoff = backoff
        self._tls = tls_context
        self._lanes = lanes_for(mqtt)
        self._queue = bounded_queue(intake.alert_queue_max, intake.telemetry_queue_max)
        self._monitor = BrokerMonitor(broker_name)
        self._clients: dict[str, aiomqtt.Client] = {}
        self._changed = asyncio.Event()

    @property
    def connected(self) -> bool:
        """Every session is up."""
        return len(self._clients) == len(self._lanes)

    async def wait_connected(self) -> aiomqtt.Client:
        """The client that publishes downlinks (the alerts session), once it is up."""
        while (client := self._clients.get("alerts")) is None:
            self._changed.clear()
            await self._changed.wait()
        return client

    async def wait_all(self) -> None:
        """Until every session is up."""
        while not self.connected:
            self._changed.clear()
            await self._changed.wait()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            for lane in self._lanes:
                tg.create_task(self._keep(lane), name=f"broker-{lane.name}")
            tg.create_task(self._consume(), name="broker-intake")

    def _make_client(self, lane: Lane) -> aiomqtt.Client:
        v5 = self._cfg.protocol == "5"
        kwargs: dict[str, Any] = {}
        if v5:
            # Ask the broker to keep the session for a minute across a gateway restart.
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 60
            kwargs["properties"] = props
        return aiomqtt.Client(
            self._cfg.host,
            self._cfg.port,
            username=self._cfg.username,
            password=self._cfg.password.get_secret_value() or None,
            identifier=lane.client_id,
            protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
            keepalive=self._cfg.keepalive_s,
            max_inflight_messages=self._cfg.max_inflight,
            queue_type=feeding(self._queue),  # type: ignore[arg-type]
            tls_context=self._tls,
            # Acks are small writes on a busy socket: without this, Nagle's algorithm
            # holds them for the peer's delayed ACK (~40 ms on Linux).
            socket_options=[NO_DELAY],
            **kwargs,
        )

    async def _keep(self, lane: Lane) -> None:
        """Connect one session and reconnect with backoff for as long as it runs."""
        attempt = 0
        where = f"broker {self._cfg.host}:{self._cfg.port} ({lane.name})"
        while True:
            try:
                async with self._make_client(lane) as client:
                    attempt = 0
                    await self._on_connect(lane, client)
                    async for _ in client.messages:  # the feed holds nothing: watches the link
                        pass
            except aiomqtt.MqttError as exc:
                metrics.MQTT_RECONNECTS.labels("terminals").inc()
                problem = tls.count_failure("terminals", exc)
                log.warning("%s: %s; reconnecting", where, problem or exc)
            finally:
                self._set(lane, None)
            await asyncio.sleep(self._backoff.delay(attempt))
            attempt += 1

    async def _on_connect(self, lane: Lane, client: aiomqtt.Client) -> None:
        # Acks are published many at a time on purpose; don't warn about it.
        client.pending_calls_threshold = 10 * self._cfg.max_inflight
        await client.subscribe([(f, 1) for f in lane.filters])
        self._set(lane, client)
        log.info("connected to broker %s:%s (%s)", self._cfg.host, self._cfg.port, lane.name)

    def _set(self, lane: Lane, client: aiomqtt.Client | None) -> None:
        if client is None:
            self._clients.pop(lane.name, None)
        else:
            self._clients[lane.name] = client
        metrics.MQTT_CONNECTED.labels("terminals").set(1 if self.connected else 0)
        self._changed.set()

    async def _consume(self) -> None:
        limit = self._intake.batch_max
        queue, monitor = self._queue, self._monitor
        while True:
            first = await queue.get()
            now = time.time()
            raws = [_raw(m) for m in (first, *queue.get_batch(limit - 1))]
            raws = [r for r in raws if not monitor.observe(r.topic, r.payload, now)]
            if raws:
                await self._handler(raws)


def _raw(message: aiomqtt.Message) -> Raw:
    payload = message.payload
    if isinstance(payload, str):
        body = payload.encode()
    elif isinstance(payload, bytes | bytearray):
        body = bytes(payload)
    else:
        body = b"" if payload is None else str(payload).encode()
    return Raw(message.topic.value, body)
