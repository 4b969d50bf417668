"""Holes an outside probe found in the generated broker configuration, against real Mosquitto.

* Any terminal could knock any client off the broker by borrowing its client id — another
  terminal (its will fires, the console shows it offline) or the gateway itself. Now the
  terminals' listeners force client id = username, and the gateway has its own listener.
* The broker queued payloads the protocol forbids (70-300 kB) for the gateway. Now
  ``max_packet_size`` makes it drop the sender before anything is queued.
"""

from __future__ import annotations

import asyncio
import subprocess

import aiomqtt
import pytest
from prometheus_client import REGISTRY

from device_sim.procs import ManagedProcess
from firmware_protocol.topics import Channel, topic
from tests.support.gateway import running_gateway
from tests.support.site import Site
from tests.support.terminal import connect_terminal

pytestmark = pytest.mark.integration


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _pub_as(site: Site, terminal_id: str, client_id: str, payload: str) -> int:
    """``mosquitto_pub`` with ``terminal_id``'s valid credentials but another client id."""
    status = topic(terminal_id, Channel.STATUS)
    return subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(site.broker_port), "-u", terminal_id,
         "-P", site.passwords[terminal_id], "-i", client_id, "-q", "1", "-t", status,
         "-m", payload],
        capture_output=True, timeout=30, check=False,
    ).returncode  # fmt: skip


async def _dropped(client: aiomqtt.Client, within_s: float = 1.0) -> bool:
    """Whether ``client`` loses its connection within ``within_s``."""
    try:
        async with asyncio.timeout(within_s):
            async for _ in client.messages:
                pass
    except TimeoutError:
        return False
    except aiomqtt.MqttError:
        return True
    return True


async def test_a_terminal_cannot_drop_another_terminals_session(
    site: Site, broker: ManagedProcess
) -> None:
    victim, intruder = site.terminals[0].terminal_id, site.terminals[2].terminal_id
    async with aiomqtt.Client(
        "127.0.0.1", site.broker_port, username=victim, password=site.passwords[victim],
        identifier=victim,
    ) as client:  # fmt: skip
        await client.subscribe(topic(victim, Channel.ACK), qos=1)
        watch = asyncio.create_task(_dropped(client))
        await asyncio.sleep(0.2)
        await asyncio.to_thread(_pub_as, site, intruder, victim, '{"v":1,"state":"online"}')
        assert not await watch, f"{intruder} dropped {victim}'s session"


async def test_a_terminal_cannot_drop_the_gateways_session(
    site: Site, broker: ManagedProcess
) -> None:
    cfg = site.config()
    intruder, t = site.terminals[2].terminal_id, site.terminals[4].terminal_id
    before = _metric("gateway_mqtt_reconnects_total", link="terminals")
    async with running_gateway(cfg) as gateway:
        await asyncio.to_thread(
            _pub_as, site, intruder, cfg.mqtt.client_id, '{"v":1,"state":"online"}'
        )
        await asyncio.sleep(1.0)
        assert gateway.link.connected
        async with connect_terminal(site.broker_port, t, site.passwords[t]) as terminal:
            await terminal.alert("still-heard")
            async with asyncio.timeout(10):
                await terminal.wait_ack("still-heard", "received")
    assert _metric("gateway_mqtt_reconnects_total", link="terminals") == before


async def test_the_broker_refuses_a_payload_the_protocol_forbids(
    site: Site, broker: ManagedProcess
) -> None:
    """70 kB on an alert topic: the broker disconnects the sender, nothing is queued."""
    cfg = site.config()
    flooder, t = site.terminals[2].terminal_id, site.terminals[5].terminal_id
    before = _metric("gateway_rejected_messages_total", reason="oversize")
    async with running_gateway(cfg):
        async with aiomqtt.Client(
            "127.0.0.1", site.broker_port, username=flooder,
            password=site.passwords[flooder], identifier=flooder,
        ) as bad:  # fmt: skip
            body = b'{"v":1,"note":"' + b"x" * 70_000 + b'"}'
            publish = asyncio.create_task(bad.publish(topic(flooder, Channel.ALERT), body, qos=1))
            assert await _dropped(bad, within_s=5.0), "the broker took a 70 kB packet"
            publish.cancel()
        async with connect_terminal(site.broker_port, t, site.passwords[t]) as terminal:
            await terminal.alert("after-the-flood")
            async with asyncio.timeout(10):
                await terminal.wait_ack("after-the-flood", "received")
    assert _metric("gateway_rejected_messages_total", reason="oversize") == before
