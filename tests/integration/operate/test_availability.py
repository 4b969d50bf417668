"""The gateway's retained availability on both brokers: online while it runs, offline
when it stops — by its own hand on SIGTERM, by its last will when SIGKILLed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiomqtt
import pytest

from device_sim.procs import ManagedProcess, free_port
from gateway.availability import availability_topic
from tests.support.gateway_process import gateway_process, wait_healthy, write_config
from tests.support.site import GATEWAY_USER, Site

pytestmark = pytest.mark.integration

UPSTREAM_PREFIX = "ec/v1/district"


def district_broker(root: Path) -> tuple[ManagedProcess, int]:
    port = free_port()
    conf = root / "district.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    return ManagedProcess(["mosquitto", "-c", str(conf)], root / "district.log"), port


@asynccontextmanager
async def watching(
    port: int, topic: str, username: str | None = None, password: str | None = None
) -> AsyncIterator[asyncio.Queue[str]]:
    """Every payload published (or retained) on ``topic``, as it arrives."""
    seen: asyncio.Queue[str] = asyncio.Queue()
    async with aiomqtt.Client(
        "127.0.0.1", port, identifier=f"watch-{port}", username=username, password=password
    ) as client:
        await client.subscribe(topic, qos=1)

        async def pump() -> None:
            async for message in client.messages:
                assert isinstance(message.payload, bytes)
                seen.put_nowait(message.payload.decode())

        task = asyncio.create_task(pump())
        try:
            yield seen
        finally:
            task.cancel()


async def next_is(seen: asyncio.Queue[str], value: str) -> None:
    async with asyncio.timeout(15):
        while (await seen.get()) != value:
            pass


@pytest.mark.parametrize("stop", ["kill -9", "SIGTERM"])
async def test_availability_turns_offline_on_both_brokers(
    site: Site, broker: ManagedProcess, stop: str
) -> None:
    upstream, upstream_port = district_broker(site.root)
    config = site.root / "gateway.toml"
    doc = write_config(site, config, upstream={"enabled": True, "port": upstream_port,
                                               "topic_prefix": UPSTREAM_PREFIX})  # fmt: skip
    local = availability_topic("ec/v1", doc["mqtt"]["client_id"])
    remote = availability_topic(UPSTREAM_PREFIX, "eldercare-gateway-up-1")
    # Only the gateway's accounts (on its own listener) may read its topic.
    login = (GATEWAY_USER, site.gateway_password)
    with upstream:
        upstream.wait_port("127.0.0.1", upstream_port)
        async with (
            watching(site.gateway_port, local, *login) as here,
            watching(upstream_port, remote) as there,
        ):
            with gateway_process(config, site.root / "gateway.log") as gateway:
                await wait_healthy(doc["http"]["port"], gateway)
                await next_is(here, "online")
                await next_is(there, "online")
                if stop == "kill -9":
                    gateway.kill9()
                else:
                    assert gateway.stop() == 0
            await next_is(here, "offline")
            await next_is(there, "offline")
        # Retained: whoever looks later sees it too.
        async with watching(upstream_port, remote) as later:
            await next_is(later, "offline")
