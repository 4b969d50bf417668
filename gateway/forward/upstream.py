"""Delivering events to a district MQTT broker, QoS 1; the PUBACK is the confirmation."""

from __future__ import annotations

import asyncio
import json
import logging
import ssl

import aiomqtt

from gateway import metrics, tls
from gateway.config import UpstreamConfig
from gateway.core.backoff import Backoff
from gateway.errors import DeliveryError
from gateway.intake.link import NO_DELAY
from gateway.store.outbox import OutboxItem

log = logging.getLogger(__name__)


class UpstreamSink:
    """Publishes each event to ``{topic_prefix}/{type}``; the body carries the event id."""

    name = "upstream"

    def __init__(self, cfg: UpstreamConfig, tls_context: ssl.SSLContext | None = None) -> None:
        self._cfg = cfg
        self._tls = tls_context
        self._client: aiomqtt.Client | None = None

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
                ) as client:  # fmt: skip
                    self._client, attempt = client, 0
                    metrics.MQTT_CONNECTED.labels("upstream").set(1)
                    await client.messages.__anext__()  # parks until the link drops
            except aiomqtt.MqttError as exc:
                metrics.MQTT_RECONNECTS.labels("upstream").inc()
                problem = tls.count_failure("upstream", exc)
                log.warning("upstream broker %s:%s: %s", cfg.host, cfg.port, problem or exc)
            finally:
                self._client = None
                metrics.MQTT_CONNECTED.labels("upstream").set(0)
            await asyncio.sleep(backoff.delay(attempt))
            attempt += 1

    async def deliver(self, item: OutboxItem) -> None:
        client = self._client
        if client is None:
            raise DeliveryError("upstream broker not connected")
        topic = f"{self._cfg.topic_prefix}/{item.body['type']}"
        body = json.dumps(item.body, ensure_ascii=False, separators=(",", ":"))
        try:
            await client.publish(topic, body, qos=1, timeout=self._cfg.timeout_s)
        except aiomqtt.MqttError as exc:
            raise DeliveryError(f"upstream publish failed: {exc}") from exc
