"""End-to-end with ``webhook.own_process``: the webhooks go out from a second process.

Real Mosquitto, simulated terminals and command center, the gateway in this process and
its forwarding process started by it.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from device_sim.procs import ManagedProcess
from firmware_protocol.messages import AlertKind, Stage
from gateway.forward.process import ForwardingProcess
from tests.support.district import GATEWAY_ENV, district
from tests.support.gateway_process import gateway_process, wait_healthy, write_config
from tests.support.site import Site

pytestmark = pytest.mark.e2e

OWN: dict[str, object] = {"own_process": True}


def delivered_ok() -> float:
    labels = {"sink": "webhook", "outcome": "ok"}
    return REGISTRY.get_sample_value("gateway_deliveries_total", labels) or 0.0


def gone(pid: int) -> bool:
    """No such process, or only its zombie (no init here may reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


async def until(predicate: Callable[[], bool], within_s: float = 20) -> None:
    """Poll ``predicate`` (a process's state, seen from outside) until it holds."""
    async with asyncio.timeout(within_s):
        while not predicate():  # noqa: ASYNC110 - polling another process's state
            await asyncio.sleep(0.05)


def child_of(gateway_forwarding: ForwardingProcess | None) -> int:
    assert gateway_forwarding is not None
    assert gateway_forwarding.pid is not None
    return gateway_forwarding.pid


async def test_alarms_go_out_from_the_forwarding_process_and_reach_delivered(
    site: Site, broker: ManagedProcess
) -> None:
    before = delivered_ok()
    async with district(site, terminals=5, webhook=OWN) as d:
        assert d.gateway is not None
        forwarding = d.gateway.forwarding
        await until(lambda: forwarding is not None and forwarding.pid is not None)
        child = child_of(forwarding)
        assert child != os.getpid()
        assert not d.gateway._forwarders  # no webhook forwarder left in the gateway itself
        pressed = [(t, d.fleet.press(t, AlertKind.EMERGENCY)) for t in d.fleet.terminal_ids]
        for t, a in pressed:
            async with asyncio.timeout(20):
                await d.fleet.wait_stage(t, a, Stage.DELIVERED)  # the child's confirm, acked
        got = [(e.data["terminal_id"], e.data["alert_id"]) for e in d.center.events
               if e.type == "alert"]  # fmt: skip
        assert sorted(got) == sorted(pressed)
        # The child's counts are the gateway's /metrics.
        await until(lambda: delivered_ok() - before >= len(pressed))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{d.gateway.http_port}") as http:
            health = (await http.get("/healthz")).json()
        assert health["forwarding"] is True
        assert health["detail"]["forwarding"]["pid"] == child
    assert gone(child)  # a stopped gateway leaves no forwarding process behind


async def test_a_killed_forwarding_process_is_replaced_and_loses_nothing(
    site: Site, broker: ManagedProcess
) -> None:
    async with district(site, terminals=4, webhook=OWN) as d:
        assert d.gateway is not None
        forwarding = d.gateway.forwarding
        await until(lambda: forwarding is not None and forwarding.pid is not None)
        first = child_of(forwarding)
        d.center.set_mode("down", for_s=2.0)  # the alarms wait in the outbox, leased
        pressed = [(t, d.fleet.press(t, AlertKind.MEDICAL)) for t in d.fleet.terminal_ids]
        for t, a in pressed:
            async with asyncio.timeout(10):
                await d.fleet.wait_stage(t, a, Stage.RECEIVED)
        os.kill(first, signal.SIGKILL)
        await until(lambda: forwarding is not None and forwarding.started >= 2
                    and forwarding.pid is not None)  # fmt: skip
        assert child_of(forwarding) != first
        for t, a in pressed:
            async with asyncio.timeout(30):
                await d.fleet.wait_stage(t, a, Stage.DELIVERED)
        got = {(e.data["terminal_id"], e.data["alert_id"]) for e in d.center.events
               if e.type == "alert"}  # fmt: skip
        assert got == set(pressed)


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()]


async def test_a_gateway_killed_with_sigkill_takes_its_forwarding_process_along(
    site: Site, broker: ManagedProcess, tmp_path: Path
) -> None:
    config = tmp_path / "gateway.toml"
    doc = write_config(site, config, webhook={
        "enabled": True, "url": "http://127.0.0.1:9/webhook", "own_process": True,
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"})  # fmt: skip
    with gateway_process(config, tmp_path / "gateway.log", env=GATEWAY_ENV) as proc:
        await wait_healthy(doc["http"]["port"], proc)
        assert proc.proc is not None
        pid = proc.proc.pid
        await until(lambda: len(children(pid)) == 1)
        (child,) = children(pid)
        os.kill(pid, signal.SIGKILL)
        await until(lambda: gone(child), within_s=10)  # its stdin closed: it ended
