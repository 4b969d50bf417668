"""Terminals flooding invalid payloads cannot crowd out alarms, and every drop is counted.

Real flooders (separate processes, valid logins, invalid payloads on their own topics)
against a real broker and gateway, while legitimate terminals press alarms. The broker
here keeps only 1,000 messages per gateway session, so it must drop: what it drops shows
up in ``gateway_broker_dropped_messages``, what reaches the gateway is counted as rejected
(or shed); nothing the broker confirmed to a flooder disappears uncounted.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from device_sim.brokers import SiteBrokers
from firmware_protocol.messages import AlertKind, Stage
from gateway.broker import BrokerSettings, QueueLimits
from tests.support.district import fleet_for
from tests.support.gateway import running_gateway
from tests.support.site import Site, make_site
from tests.support.wait import until
from tests.unit.gateway.helpers import sample

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]  # where `-m bench.flooder` resolves
FLOODERS = 4
FLOOD_S = 8.0
SMALL_QUEUE = BrokerSettings(
    persistence=False, gateway_side=QueueLimits(1000, 4 * 1024 * 1024, 100), sys_interval_s=1
)


def _counted() -> float:
    """Every uplink message the gateway or its broker turned away, so far."""
    total = 0.0
    for family in REGISTRY.collect():
        if family.name in ("gateway_rejected_messages", "gateway_shed_messages"):
            total += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return total + sample("gateway_broker_dropped_messages", broker="site")


async def _flood(site: Site, terminal_id: str, seed: int, big_every: int) -> dict[str, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.flooder", "--port", str(site.broker_port),
        "--user", terminal_id, f"--password={site.passwords[terminal_id]}",
        "--seconds", str(FLOOD_S), "--seed", str(seed), "--big-every", str(big_every),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    result: dict[str, int] = json.loads(out)
    return result


@pytest.mark.parametrize("big_every", [14, 1_000_000_000], ids=["probe-mix", "small-only"])
async def test_flooders_do_not_keep_alarms_out_and_every_drop_is_counted(
    tmp_path: Path, big_every: int
) -> None:
    site = make_site(tmp_path, count=30, broker_settings=SMALL_QUEUE)
    flooders = [t.terminal_id for t in site.terminals[-FLOODERS:]]
    fleet = fleet_for(site, 10)
    with SiteBrokers(site.root):
        async with running_gateway(site.config()), asyncio.TaskGroup() as tg:
            tg.create_task(fleet.run(), name="fleet")
            try:
                async with asyncio.timeout(30):
                    await fleet.wait_connected()
                    # This broker's own (retained) count, not the last test's broker's.
                    await until(
                        lambda: sample("gateway_broker_dropped_messages", broker="site") == 0
                    )
                before = _counted()
                floods = [
                    tg.create_task(_flood(site, t, n, big_every)) for n, t in enumerate(flooders)
                ]
                pressed = []
                for _ in range(int(FLOOD_S)):
                    pressed += [
                        (t, fleet.press(t, AlertKind.EMERGENCY)) for t in fleet.terminal_ids
                    ]
                    await asyncio.sleep(1.0)
                results = [await f for f in floods]
                for t, alert_id in pressed:
                    async with asyncio.timeout(120):
                        await fleet.wait_stage(t, alert_id, Stage.RECEIVED)
                assert fleet.report().lost == 0
                acked = sum(r["acked"] for r in results)
                # The broker's $SYS count comes every second; let the intake drain too.
                async with asyncio.timeout(60):
                    await until(lambda: _counted() - before >= acked, interval=0.5)
            finally:
                fleet.stop()
    if big_every < 100:
        assert all(r["connects"] > 1 for r in results)  # each big packet cost a connection
