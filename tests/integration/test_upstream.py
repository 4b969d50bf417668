"""Forwarding to a district broker over MQTT (the upstream sink), against real Mosquitto."""

from __future__ import annotations

import asyncio
import getpass
import json
from pathlib import Path

import aiomqtt
import pytest

from device_sim.procs import ManagedProcess, free_port
from firmware_protocol.messages import Stage
from tests.support.gateway import running_gateway
from tests.support.site import Site
from tests.support.terminal import connect_terminal, pinned

pytestmark = pytest.mark.integration


def district_broker(root: Path) -> tuple[ManagedProcess, int]:
    port = free_port()
    conf = root / "district.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    return ManagedProcess(["mosquitto", "-c", str(conf)], root / "district.log"), port


async def test_events_reach_the_district_broker_and_confirm_delivery(
    site: Site, broker: ManagedProcess
) -> None:
    upstream, port = district_broker(site.root)
    with upstream:
        upstream.wait_port("127.0.0.1", port)
        cfg = site.config(upstream={"enabled": True, "port": port})
        t = site.terminals[0].terminal_id
        async with (
            aiomqtt.Client("127.0.0.1", port, identifier="district-listener") as listener,
            running_gateway(cfg),
            connect_terminal(site.broker_port, t, site.passwords[t]) as terminal,
        ):
            await listener.subscribe("ec/v1/district/+", qos=1)  # events, not availability
            await terminal.alert("up-1", kind="nursing")
            async with asyncio.timeout(15):
                message = await anext(aiter(listener.messages))
                # The upstream broker's PUBACK is the only sink here: it confirms delivery.
                await terminal.wait_ack("up-1", Stage.DELIVERED.value)
    assert message.topic.value == "ec/v1/district/alert"
    assert isinstance(message.payload, bytes)
    event = json.loads(message.payload)
    assert event["event_id"] == f"alert:{t}:up-1"
    assert event["data"]["kind"] == "nursing"
    assert event["region"] == list(site.terminals[0].region)


def tls_district_broker(site: Site) -> tuple[ManagedProcess, int]:
    """A district broker that speaks only TLS, with a certificate from the site CA."""
    port = free_port()
    files = site.provisioned.broker_dir("site")
    conf = site.root / "district-tls.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        f"user {getpass.getuser()}\n"
        f"certfile {files.cert}\nkeyfile {files.key}\ntls_version tlsv1.2\n"
    )
    return ManagedProcess(["mosquitto", "-c", str(conf)], site.root / "district-tls.log"), port


async def test_events_reach_a_district_broker_over_tls(site: Site, broker: ManagedProcess) -> None:
    upstream, port = tls_district_broker(site)
    with upstream:
        upstream.wait_port("127.0.0.1", port)
        tls = {"ca_file": str(site.ca_file)}
        cfg = site.config(upstream={"enabled": True, "port": port, "tls": tls})
        t = site.terminals[1].terminal_id
        context = pinned(site.ca_file)
        listen = aiomqtt.Client("127.0.0.1", port, identifier="listener", tls_context=context)
        async with (
            listen as listener,
            running_gateway(cfg),
            connect_terminal(site.broker_port, t, site.passwords[t]) as terminal,
        ):  # fmt: skip
            await listener.subscribe("ec/v1/district/#", qos=1)
            await terminal.alert("up-tls")
            async with asyncio.timeout(15):
                await terminal.wait_ack("up-tls", Stage.DELIVERED.value)
