"""The gateway's connection to the terminals' broker: several sessions, one intake.

Mosquitto queues per client session, and a few terminals flooding their own topics fill
the queue of every session that subscribes to them. So the gateway reads through separate
sessions ("lanes"), each with its own queue on the broker:

* on a single broker, ``alerts`` (every terminal's alarms; it also carries the downlinks,
  acks and commands) and ``telemetry`` (health, status, the broker's own state): health
  and status never queue ahead of an alarm, however much of them piles up;
* on a district broker, the same two per zone (town) plus one for the brokers' state: a
  town whose terminals flood fills only its own town's queues, and every other town's
  alarms flow as before. Acks and commands for a town go out on that town's lane.

All lanes feed one :class:`~gateway.intake.queue.IntakeQueue` (alerts first), drained by
one consumer in batches of up to ``intake.batch_max``. Zones come from the registry at
start: a new town broker needs a gateway restart.

Each session is a :class:`~gateway.intake.session.Session` on the lean MQTT client (see
there for why not aiomqtt on this path). It acknowledges QoS 1 at the MQTT level on
receipt; the alarm path's real acknowledgement is the application ``received`` ack, sent
only after the commit, and a terminal retransmits until it has one. Losing in-memory
messages on a crash therefore delays an alert but never loses it.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from firmware_protocol.mqtt import MqttError
from firmware_protocol.topics import Channel
from gateway import availability, tls
from gateway.config import IntakeConfig, MqttConfig
from gateway.core.backoff import Backoff
from gateway.intake.monitor import BrokerMonitor
from gateway.intake.queue import bounded_queue
from gateway.intake.router import Raw
from gateway.intake.session import Session
from gateway.linkstate import LinkState
from gateway.zones import Unroutable, monitor_filters, split_zone, uplink_filters

log = logging.getLogger(__name__)

RECONNECT = Backoff(base=0.5, cap=30.0)
#: MQTT 5: the broker keeps a session this long across a gateway restart.
SESSION_EXPIRY_S = 60
ALERT, TELEMETRY = [Channel.ALERT], [Channel.HEALTH, Channel.STATUS]

Handler = Callable[[list[Raw]], Awaitable[None]]
#: The lanes that carry the gateway's availability (single broker, district broker).
ANNOUNCERS = ("alerts", "monitor")


@dataclass(frozen=True, slots=True)
class Lane:
    """One MQTT session of the gateway, with its own queue on the broker."""

    name: str
    client_id: str
    filters: tuple[str, ...]
    zone: str | None = None
    downlinks: bool = False  # publishes the acks and commands of its zone


def lanes_for(cfg: MqttConfig, zones: Sequence[str] = ()) -> tuple[Lane, ...]:
    """The sessions for a single broker, or for a district broker with ``zones``.

    Client ids beyond ``mqtt.client_id`` contain a ``.``, which no terminal id does.
    """
    cid, share = cfg.client_id, cfg.share_group
    if not cfg.bridged:
        return (
            Lane("alerts", cid, tuple(uplink_filters(False, share, ALERT)), None, True),
            Lane("telemetry", f"{cid}.telemetry",
                 (*uplink_filters(False, share, TELEMETRY), *monitor_filters(False))),
        )  # fmt: skip
    lanes = []
    for zone in zones:
        alerts = tuple(uplink_filters(True, share, ALERT, zone))
        lanes.append(Lane(f"alerts-{zone}", f"{cid}.alerts.{zone}", alerts, zone, True))
        telemetry = tuple(uplink_filters(True, share, TELEMETRY, zone))
        lanes.append(Lane(f"telemetry-{zone}", f"{cid}.telemetry.{zone}", telemetry, zone))
    lanes.append(Lane("monitor", f"{cid}.monitor", tuple(monitor_filters(True))))
    return tuple(lanes)


class BrokerLink:
    """Owns the gateway's MQTT sessions; ``run()`` keeps them connected and feeds ``handler``.

    It is also the publisher of downlinks: :meth:`publish` sends on the lane of the
    topic's zone. One lane (``alerts`` on a single broker, ``monitor`` on a district
    broker) carries the gateway's availability: a retained ``online`` when it connects,
    ``offline`` as its last will.
    """

    def __init__(
        self,
        mqtt: MqttConfig,
        intake: IntakeConfig,
        handler: Handler,
        backoff: Backoff = RECONNECT,
        tls_context: ssl.SSLContext | None = None,
        broker_name: str = "site",
        zones: Sequence[str] = (),
    ) -> None:
        self._cfg = mqtt
        self._intake = intake
        self._handler = handler
        self._backoff = backoff
        self._tls = tls_context
        self.lanes = lanes_for(mqtt, zones)
        self._downlink_lanes = {lane.zone: lane.name for lane in self.lanes if lane.downlinks}
        self._queue = bounded_queue(intake.alert_queue_max, intake.telemetry_queue_max)
        self._monitor = BrokerMonitor(broker_name)
        self._clients: dict[str, Session] = {}
        self._changed = asyncio.Event()
        self.state = LinkState("terminals", f"{mqtt.host}:{mqtt.port}")
        self.availability_topic = availability.availability_topic(
            availability.TERMINALS_PREFIX, mqtt.client_id
        )
        self._announcer = next(lane.name for lane in self.lanes if lane.name in ANNOUNCERS)

    @property
    def connected(self) -> bool:
        """Every session is up."""
        return len(self._clients) == len(self.lanes)

    async def wait_connected(self) -> BrokerLink:
        """Until every session is up; then the link itself publishes downlinks."""
        await self.wait_all()
        return self

    async def wait_all(self) -> None:
        while not self.connected:
            self._changed.clear()
            await self._changed.wait()

    async def publish(self, topic: str, payload: bytes, qos: int) -> None:
        """Publish a downlink on its zone's lane, once that lane is up (the caller bounds
        the wait). A zone without a lane (not in the registry at start) is Unroutable."""
        zone = split_zone(topic)[0] if self._cfg.bridged else None
        name = self._downlink_lanes.get(zone)
        if name is None:
            raise Unroutable(f"no session for zone {zone!r}: restart the gateway for a new town")
        while (client := self._clients.get(name)) is None:
            self._changed.clear()
            await self._changed.wait()
        await client.publish(topic, payload, qos=qos)

    async def run(self) -> None:
        async with asyncio.TaskGroup() as tg:
            for lane in self.lanes:
                tg.create_task(self._keep(lane), name=f"broker-{lane.name}")
            tg.create_task(self._consume(), name="broker-intake")

    async def _open(self, lane: Lane) -> Session:
        cfg = self._cfg
        queue = self._queue

        def received(topic: str, payload: bytes) -> None:
            queue.put_nowait(Raw(topic, payload))

        announcer = lane.name == self._announcer
        return await Session.open(
            cfg.host, cfg.port, client_id=lane.client_id, username=cfg.username,
            password=cfg.password.get_secret_value() or None, keepalive_s=cfg.keepalive_s,
            on_message=received, max_inflight=cfg.max_inflight, v5=cfg.protocol == "5",
            # A lone gateway keeps its sessions: the broker queues what arrives while it
            # restarts. In a shared group a dead member must not hold messages back.
            clean=cfg.share_group is not None, session_expiry_s=SESSION_EXPIRY_S,
            will=availability.last_will(self.availability_topic) if announcer else None,
            tls=self._tls,
        )  # fmt: skip

    async def _keep(self, lane: Lane) -> None:
        """Connect one session and reconnect with backoff for as long as it runs."""
        attempt = 0
        where = f"broker {self._cfg.host}:{self._cfg.port} ({lane.name})"
        while True:
            session: Session | None = None
            try:
                session = await self._open(lane)
                attempt = 0
                await self._on_connect(lane, session)
                try:
                    await session.serve()
                except asyncio.CancelledError:
                    if lane.name == self._announcer:
                        await availability.withdraw(session, self.availability_topic)
                    session.close()
                    raise
                raise MqttError("session closed")  # serve() only returns after close()
            except MqttError as exc:
                tls.count_failure("terminals", exc)
                # Every lane meets the same outage: the state logs each reason once.
                log.debug("%s: %s", where, exc)
                self.state.down(exc)
            finally:
                self._set(lane, None)
                if session is not None:
                    session.abort()  # a no-op once closed
            await asyncio.sleep(self._backoff.delay(attempt))
            attempt += 1

    async def _on_connect(self, lane: Lane, session: Session) -> None:
        await session.subscribe([(f, 1) for f in lane.filters])
        if lane.name == self._announcer:
            await availability.announce(session, self.availability_topic)
        self._set(lane, session)
        log.debug("session %s connected", lane.name)
        if self.connected:
            log.info("connected to broker %s:%s (%d sessions)", self._cfg.host, self._cfg.port,
                     len(self.lanes))  # fmt: skip

    def _set(self, lane: Lane, client: Session | None) -> None:
        if client is None:
            self._clients.pop(lane.name, None)
        else:
            self._clients[lane.name] = client
            if self.connected:
                self.state.up()
        self._changed.set()

    async def _consume(self) -> None:
        limit = self._intake.batch_max
        queue, monitor = self._queue, self._monitor
        while True:
            first = await queue.get()
            now = time.time()
            rest = queue.get_batch(limit - 1, alerts_only=queue.is_alert(first))
            raws = [r for r in (first, *rest) if not monitor.observe(r.topic, r.payload, now)]
            if raws:
                await self._handler(raws)
