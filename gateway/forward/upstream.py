"""Delivering events to a district MQTT broker, QoS 1; the PUBACK is the confirmation."""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
from collections.abc import Sequence

import aiomqtt

from gateway import availability, tls
from gateway.config import UpstreamConfig
from gateway.core.backoff import Backoff
from gateway.errors import DeliveryError
from gateway.linkstate import LinkState
from gateway.store.outbox import OutboxItem

log = logging.getLogger(__name__)
#: Deliveries are small writes on a busy socket: without this, Nagle's algorithm holds
#: them for the peer's delayed ACK (~40 ms on Linux).
NO_DELAY = (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class UpstreamSink:
    """Publishes each event to ``{topic_prefix}/{type}``; the body carries the event id."""

    name = "upstream"

    def __init__(self, cfg: UpstreamConfig, tls_context: ssl.SSLContext | None = None) -> None:
        self._cfg = cfg
        self._tls = tls_context
        self._client: aiomqtt.Client | None = None
        self.state = LinkState("upstream", f"{cfg.host}:{cfg.port}")
        self.availability_topic = availability.availability_topic(cfg.topic_prefix, cfg.client_id)

    async def run(self) -> None:
        """Hold the connection open; deliveries fail fast while it is down."""
        cfg = self._cfg
        backoff, attempt = Backoff(base=1.0, cap=60.0), 0
        while True:
            try:
                async with aiomqtt.Client(
                    cfg.host, cfg.port, username=cfg.username,
                    password=cfg.password.get_secret_value() or None,
                    identifier=cfg.client_id, max_inflight_messages=1000,
                    socket_options=[NO_DELAY], tls_context=self._tls,
                    will=availability.upstream_will(self.availability_topic),
                ) as client:  # fmt: skip
                    await availability.announce(client, self.availability_topic)
                    self._client, attempt = client, 0
                    self.state.up()
                    try:
                        await client.messages.__anext__()  # parks until the link drops
                    except asyncio.CancelledError:
                        await availability.withdraw(client, self.availability_topic)
                        raise
            except aiomqtt.MqttError as exc:
                tls.count_failure("upstream", exc)
                self.state.down(exc)
            finally:
                self._client = None
            await asyncio.sleep(backoff.delay(attempt))
            attempt += 1

    async def deliver(self, items: Sequence[OutboxItem]) -> dict[str, DeliveryError]:
        """Publish every item at once (QoS 1); each PUBACK confirms its own event."""
        results = await asyncio.gather(*(self._publish(item) for item in items))
        return {item.event_id: error for item, error in zip(items, results, strict=True) if error}

    async def _publish(self, item: OutboxItem) -> DeliveryError | None:
        client = self._client
        if client is None:
            return DeliveryError("upstream broker not connected")
        topic = f"{self._cfg.topic_prefix}/{item.type}"
        try:
            await client.publish(topic, item.raw, qos=1, timeout=self._cfg.timeout_s)
        except aiomqtt.MqttError as exc:
            return DeliveryError(f"upstream publish failed: {exc}")
        return None
