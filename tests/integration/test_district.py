"""A district of town brokers bridged to a district broker, all real Mosquitto processes.

Alarms cross a town's bridge to the gateway; acks come back over that town's bridge only.
A town broker restart, a district broker restart and a bridge outage lose no alarm:
terminals retransmit until ``received``.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from device_sim.procs import free_port
from device_sim.terminals.fleet import Fleet
from firmware_protocol.messages import AlertKind, Stage
from tests.support.district import fleet_for
from tests.support.gateway import running_gateway
from tests.support.proxy import TcpRelay
from tests.support.site import Site, make_district
from tests.support.terminal import connect_terminal
from tests.support.towns import (
    add_account,
    add_observer,
    observing,
    running_district,
    wait_bridges,
)
from tests.support.wait import until
from tests.unit.gateway.helpers import sample

pytestmark = pytest.mark.integration

TOWNS = ("town1", "town2")


def _first(site: Site, zone: str) -> str:
    return next(t.terminal_id for t in site.terminals if t.zone == zone)


async def test_an_alarm_crosses_its_towns_bridge_and_its_acks_reach_that_town_only(
    tmp_path: Path,
) -> None:
    site = make_district(tmp_path)
    for town in TOWNS:
        add_observer(site, town)
    t = _first(site, "town1")
    async with (
        running_district(site),
        running_gateway(site.config()),
        observing(site, "town1") as town1,
        observing(site, "town2") as town2,
        connect_terminal(site.terminal_port("town1"), t, site.passwords[t]) as terminal,
    ):
        await terminal.alert("z-1")
        async with asyncio.timeout(15):
            await terminal.wait_ack("z-1", Stage.RECEIVED.value)
        await asyncio.sleep(0.5)  # time for any stray copy to reach town 2
    assert town1 == [f"ec/v1/t/{t}/ack"]
    assert town2 == []
    with sqlite3.connect(site.root / "gateway.db") as conn:
        stored = conn.execute("SELECT terminal_id, alert_id FROM alerts").fetchall()
    assert stored == [(t, "z-1")]


async def test_an_alarm_through_another_towns_broker_is_refused_as_wrong_zone(
    tmp_path: Path,
) -> None:
    site = make_district(tmp_path)
    t = _first(site, "town1")
    add_account(site, "town2", t, site.passwords[t])  # the same login on the wrong town
    before = sample("gateway_rejected_messages_total", reason="wrong_zone")
    async with (
        running_district(site),
        running_gateway(site.config()),
        connect_terminal(site.terminal_port("town2"), t, site.passwords[t]) as stray,
    ):
        await stray.alert("wrong-way")
        async with asyncio.timeout(15):
            await until(
                lambda: sample("gateway_rejected_messages_total", reason="wrong_zone") > before
            )
        await asyncio.sleep(0.3)
        assert stray.acks == []


@asynccontextmanager
async def town_fleets(site: Site, count: int) -> AsyncIterator[list[Fleet]]:
    """``count`` simulated terminals in each town, connected to their own town broker."""
    fleets = [fleet_for(site, count, zone) for zone in TOWNS]
    async with asyncio.TaskGroup() as tg:
        for n, fleet in enumerate(fleets):
            tg.create_task(fleet.run(), name=f"fleet-{n}")
        try:
            async with asyncio.timeout(30):
                for fleet in fleets:
                    await fleet.wait_connected()
            yield fleets
        finally:
            for fleet in fleets:
                fleet.stop()


async def _all_received(fleets: list[Fleet], pressed: list[tuple[int, str, str]]) -> None:
    for n, t, alert_id in pressed:
        async with asyncio.timeout(90):
            await fleets[n].wait_stage(t, alert_id, Stage.RECEIVED)


def _stored_once(site: Site, pressed: list[tuple[int, str, str]]) -> None:
    with sqlite3.connect(site.root / "gateway.db") as conn:
        rows = conn.execute("SELECT terminal_id, alert_id FROM alerts").fetchall()
    assert sorted(rows) == sorted((t, a) for _, t, a in pressed)


@pytest.mark.parametrize("restarted", ["town1", "district"])
async def test_a_broker_restart_mid_burst_loses_no_alarm(tmp_path: Path, restarted: str) -> None:
    site = make_district(tmp_path)
    async with (
        running_district(site) as brokers,
        running_gateway(site.config()),
        town_fleets(site, 8) as fleets,
    ):
        pressed: list[tuple[int, str, str]] = []
        for round_ in range(6):
            for n, fleet in enumerate(fleets):
                for t in fleet.terminal_ids:
                    pressed.append((n, t, fleet.press(t, AlertKind.EMERGENCY)))
            if round_ == 2:
                await asyncio.to_thread(brokers.restart, restarted)
            await asyncio.sleep(0.05)
        await _all_received(fleets, pressed)
        assert [f.report().lost for f in fleets] == [0, 0]
    _stored_once(site, pressed)


async def test_a_bridge_outage_delays_only_its_town_and_loses_nothing(tmp_path: Path) -> None:
    site = make_district(tmp_path)
    relay_port = free_port()
    town1 = site.provisioned.broker_dir("town1").conf
    bridges = site.provisioned.topology.brokers[0].listeners[1].port
    town1.write_text(town1.read_text().replace(f":{bridges}\n", f":{relay_port}\n"))
    async with (
        TcpRelay(relay_port, bridges) as relay,
        running_district(site),
        running_gateway(site.config()),
        town_fleets(site, 5) as fleets,
    ):
        relay.cut()
        async with asyncio.timeout(15):
            await wait_bridges(site, up=False, zones={"town1"})
        pressed = [(n, t, f.press(t, AlertKind.NURSING)) for n, f in enumerate(fleets)
                   for t in f.terminal_ids]  # fmt: skip
        await _all_received(fleets, [p for p in pressed if p[0] == 1])  # town 2 unaffected
        assert all(fleets[0].alert(t, a).highest is None for n, t, a in pressed if n == 0)  # type: ignore[union-attr]
        relay.restore()
        await _all_received(fleets, pressed)
        assert [f.report().lost for f in fleets] == [0, 0]
    _stored_once(site, pressed)
