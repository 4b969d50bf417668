"""Helpers for a district of bridged town brokers: start it, wait for its bridges, look in."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiomqtt

from device_sim.brokers import SiteBrokers
from tests.support.site import GATEWAY_USER, Site

OBSERVER, OBSERVER_PASSWORD = "observer", "observer-password"


def add_account(site: Site, broker: str, user: str, password: str, acl: str = "") -> None:
    """An extra account on one broker's terminal listeners (before it starts, or SIGHUP)."""
    files = site.provisioned.broker_dir(broker)
    subprocess.run(
        ["mosquitto_passwd", "-b", str(files.passwd("terminals")), user, password],
        check=True, capture_output=True,
    )  # fmt: skip
    if acl:
        with files.acl("terminals").open("a", encoding="utf-8") as handle:
            handle.write(f"\nuser {user}\n{acl}\n")


def add_observer(site: Site, broker: str) -> None:
    """An account that may read every terminal's acks on ``broker`` (tests only)."""
    add_account(site, broker, OBSERVER, OBSERVER_PASSWORD, "topic read ec/v1/t/+/ack")


@asynccontextmanager
async def observing(site: Site, zone: str) -> AsyncIterator[list[str]]:
    """The topics of every ack that arrives on ``zone``'s town broker meanwhile."""
    seen: list[str] = []
    async with aiomqtt.Client(
        "127.0.0.1", site.terminal_port(zone), username=OBSERVER, password=OBSERVER_PASSWORD,
        identifier=OBSERVER,
    ) as client:  # fmt: skip
        await client.subscribe("ec/v1/t/+/ack", qos=1)

        async def listen() -> None:
            async for message in client.messages:
                seen.append(message.topic.value)

        task = asyncio.create_task(listen())
        try:
            yield seen
        finally:
            task.cancel()


async def wait_bridges(site: Site, up: bool = True, zones: set[str] | None = None) -> None:
    """Until every town's bridge (or those of ``zones``) reports that it is up — or down."""
    zones = zones or {t.zone for t in site.terminals if t.zone is not None}
    state: dict[str, bool] = {}
    async with aiomqtt.Client(
        "127.0.0.1", site.gateway_port, username=GATEWAY_USER,
        password=site.gateway_password, identifier="bridge-watch",
    ) as client:  # fmt: skip
        await client.subscribe("ec/v1/z/+/bridge", qos=1)
        async for message in client.messages:
            state[message.topic.value.split("/")[3]] = message.payload == b"1"
            if all(state.get(z) is up for z in zones):
                return


@asynccontextmanager
async def running_district(site: Site) -> AsyncIterator[SiteBrokers]:
    """Every broker of the site, started off the event loop, with its bridges up."""
    brokers = SiteBrokers(site.root)
    await asyncio.to_thread(brokers.start)
    try:
        async with asyncio.timeout(30):
            await wait_bridges(site)
        yield brokers
    finally:
        await asyncio.to_thread(brokers.stop)
