"""A call sequence survives ``kill -9`` of the gateway: it goes on where it was after the
restart, each call (attempt) reaches the command center under one event id, and the
terminal still hears who accepted."""

from __future__ import annotations

import asyncio
import sys
import time
from collections import Counter

import httpx
import pytest
import tomli_w

from device_sim.command_center.telephony import TelephonyOptions, parse_plan
from device_sim.procs import ManagedProcess
from gateway.config import GatewayConfig
from gateway.core.elders import Contact, ElderRecord
from gateway.store.db import open_database
from gateway.store.elders import ElderStore
from tests.support.district import GATEWAY_ENV, District, district
from tests.support.site import Site
from tests.support.terminal import connect_terminal

pytestmark = pytest.mark.e2e

CONTACTS = (
    Contact("李娜", "relative", "13800000011"),
    Contact("王强", "neighbour", "13800000012"),
    Contact("网格员 赵明", "grid_worker", "13800000013"),
)
SECTIONS = ("mqtt", "registry", "store", "webhook", "http", "api", "dispatch")


def write_config(cfg: GatewayConfig, site: Site) -> list[str]:
    doc = {s: getattr(cfg, s).model_dump(mode="json", exclude_none=True) for s in SECTIONS}
    doc["mqtt"]["password"] = cfg.mqtt.password.get_secret_value()
    doc["webhook"]["secret"] = cfg.webhook.secret.get_secret_value()
    path = site.root / "gateway.toml"
    path.write_text(tomli_w.dumps(doc))
    return [sys.executable, "-m", "gateway", "run", "--config", str(path)]


async def wait_ready(port: int) -> None:
    """The HTTP port opens before the broker link subscribes: wait for /healthz."""
    async with httpx.AsyncClient() as http, asyncio.timeout(20):
        while True:
            try:
                if (await http.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)


def calls(d: District) -> list[tuple[str, int]]:
    return [(e.event_id, e.data["attempt"]) for e in d.center.events if e.type == "alert.dispatch"]


async def test_kill_9_mid_sequence_neither_loses_it_nor_calls_anyone_twice(
    site: Site, broker: ManagedProcess
) -> None:
    elder = site.terminals[4]
    async with open_database(site.root / "gateway.db") as db:
        await ElderStore(db).put(ElderRecord(elder.terminal_id, contacts=CONTACTS), "t", 0.0)
    phone = TelephonyOptions(plan=parse_plan("never,never,accept:0.3"), eta_s=300)
    dispatch: dict[str, object] = {"answer_timeout_s": 5, "sweep_interval_s": 0.2}
    async with (
        district(site, terminals=1, telephony=phone, in_process_gateway=False,
                 dispatch=dispatch) as d,
        connect_terminal(site.broker_port, elder.terminal_id,
                         site.passwords[elder.terminal_id]) as terminal,
    ):  # fmt: skip
        argv = write_config(d.gateway_config, site)
        env = {**GATEWAY_ENV, "PATH": "/usr/bin:/bin"}
        port = d.gateway_config.http.port
        first = ManagedProcess(argv, site.root / "gateway-1.log", env=env).start()
        try:
            first.wait_port("127.0.0.1", port)
            await wait_ready(port)
            await terminal.alert("e1", "emergency", ts=time.time())
            async with asyncio.timeout(20):
                await d.center.wait_for(lambda ev: any(e.type == "alert.dispatch" for e in ev))
        finally:
            first.kill9()  # while 李娜 is being called
        with ManagedProcess(argv, site.root / "gateway-2.log", env=env) as second:
            second.wait_port("127.0.0.1", port)
            async with asyncio.timeout(40):
                ack = await terminal.wait_ack("e1", "accepted")
        assert ack["by"] == "网格员 赵明"
        sent = calls(d)
        assert sorted(attempt for _, attempt in sent) == [1, 2, 3]
        assert max(Counter(event_id for event_id, _ in sent).values()) == 1
        names = [e.data["responder"]["name"] for e in d.center.events if e.type == "alert.dispatch"]
        assert names == [c.name for c in CONTACTS]
