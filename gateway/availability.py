"""The gateway's own availability on each broker it uses (Home Assistant / Frigate style).

On connecting, the gateway publishes a retained ``online`` to its availability topic,
having registered a last will of a retained ``offline`` on the same topic; on a clean
stop it publishes ``offline`` itself. The broker publishes the will when the gateway
vanishes (killed, host down, network cut after the keepalive), so whoever watches the
topic can tell a dead gateway from a quiet one:

* terminal broker: ``ec/v1/gateway/{mqtt.client_id}/availability``
* upstream broker: ``{upstream.topic_prefix}/gateway/{upstream.client_id}/availability``
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Protocol

import aiomqtt

from firmware_protocol import mqtt

ONLINE = "online"
OFFLINE = "offline"
TERMINALS_PREFIX = "ec/v1"
#: A clean stop publishes ``offline`` within this; otherwise the will does it.
WITHDRAW_TIMEOUT_S = 2.0


def availability_topic(prefix: str, client_id: str) -> str:
    """The topic for ``client_id`` under ``prefix`` (wildcards and ``/`` are replaced)."""
    return f"{prefix}/gateway/{re.sub(r'[/+#]', '_', client_id)}/availability"


class RetainingPublisher(Protocol):
    """An ``aiomqtt.Client`` (upstream) or a :class:`~gateway.intake.session.Session`."""

    async def publish(self, topic: str, payload: str, qos: int, retain: bool) -> None: ...


def last_will(topic: str) -> mqtt.Will:
    """The will of the gateway's terminal-broker sessions."""
    return mqtt.Will(topic, OFFLINE.encode(), qos=1, retain=True)


def upstream_will(topic: str) -> aiomqtt.Will:
    """The same will for the upstream (aiomqtt) link."""
    return aiomqtt.Will(topic, OFFLINE, qos=1, retain=True)


async def announce(client: RetainingPublisher, topic: str) -> None:
    """Retained ``online``: call right after connecting."""
    await client.publish(topic, ONLINE, qos=1, retain=True)


async def withdraw(client: RetainingPublisher, topic: str) -> None:
    """Retained ``offline`` before a clean disconnect (which suppresses the will)."""
    with contextlib.suppress(aiomqtt.MqttError, mqtt.MqttError, TimeoutError):
        async with asyncio.timeout(WITHDRAW_TIMEOUT_S):
            await client.publish(topic, OFFLINE, qos=1, retain=True)
