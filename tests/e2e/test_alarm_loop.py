"""End-to-end: simulated terminals → real broker → gateway → simulated command center."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import tomli_w

from device_sim.procs import ManagedProcess
from firmware_protocol.messages import AlertKind, Stage
from gateway.config import GatewayConfig
from tests.support.district import GATEWAY_ENV, district
from tests.support.site import Site

pytestmark = pytest.mark.e2e

HELP = [AlertKind.EMERGENCY, AlertKind.NURSING, AlertKind.MEAL, AlertKind.MOBILITY,
        AlertKind.MEDICAL, AlertKind.ERRAND]  # fmt: skip


def _alert_events(center_events: list) -> list[tuple[str, str]]:  # type: ignore[type-arg]
    return [(e.data["terminal_id"], e.data["alert_id"]) for e in center_events if e.type == "alert"]


async def test_every_kind_reaches_resolved_and_the_center_once(
    site: Site, broker: ManagedProcess
) -> None:
    async with district(site, terminals=6, accept_after_s=0.2, resolve_after_s=0.4) as d:
        pressed = []
        for terminal_id, kind in zip(d.fleet.terminal_ids, HELP, strict=False):
            pressed.append((terminal_id, d.fleet.press(terminal_id, kind)))
        for terminal_id, alert_id in pressed:
            async with asyncio.timeout(20):
                record = await d.fleet.wait_stage(terminal_id, alert_id, Stage.RESOLVED)
            assert {Stage.RECEIVED, Stage.DELIVERED, Stage.ACCEPTED} <= set(record.reached)
        assert sorted(_alert_events(d.center.events)) == sorted(pressed)
        kinds = {e.data["kind"] for e in d.center.events if e.type == "alert"}
        assert kinds == {k.value for k in HELP}
        accepted = [e for e in d.center.events if e.type == "alert.accepted"]
        assert len(accepted) == len(pressed)
        assert all(e.region[0] == "示范区" for e in d.center.events)


async def test_cancel_resolves_the_cancelled_alert(site: Site, broker: ManagedProcess) -> None:
    async with district(site, terminals=1) as d:
        t = d.fleet.terminal_ids[0]
        first = d.fleet.press(t, AlertKind.MOBILITY)
        async with asyncio.timeout(10):
            await d.fleet.wait_stage(t, first, Stage.DELIVERED)
        d.fleet.press(t, AlertKind.CANCEL, cancels=first)
        async with asyncio.timeout(10):
            await d.fleet.wait_stage(t, first, Stage.RESOLVED)
        async with asyncio.timeout(10):
            await d.center.wait_for(lambda ev: any(e.type == "alert.cancelled" for e in ev))


async def test_command_center_outage_delays_but_loses_nothing(
    site: Site, broker: ManagedProcess
) -> None:
    async with district(site, terminals=5) as d:
        d.center.set_mode("down", for_s=3.0)
        pressed = [(t, d.fleet.press(t, AlertKind.EMERGENCY)) for t in d.fleet.terminal_ids]
        for t, a in pressed:
            async with asyncio.timeout(10):
                await d.fleet.wait_stage(t, a, Stage.RECEIVED)  # stored while the center is down
        assert all(d.fleet.alert(t, a).highest is Stage.RECEIVED for t, a in pressed)  # type: ignore[union-attr]
        for t, a in pressed:
            async with asyncio.timeout(30):
                await d.fleet.wait_stage(t, a, Stage.DELIVERED)
        assert sorted(_alert_events(d.center.events)) == sorted(pressed)


async def test_silent_terminal_goes_offline_and_comes_back(
    site: Site, broker: ManagedProcess
) -> None:
    fast: dict[str, object] = {"will_grace_s": 0.5, "reporting_time_s": 60, "sweep_interval_s": 0.2}
    async with district(site, terminals=2, supervision=fast) as d:
        t = d.fleet.terminal_ids[0]
        d.fleet.drop(t, back_after_s=3.0)
        async with asyncio.timeout(20):
            await d.center.wait_for(
                lambda ev: any(e.type == "terminal.offline" and e.source == t for e in ev)
            )
        async with asyncio.timeout(20):
            await d.center.wait_for(
                lambda ev: any(e.type == "terminal.restored" and e.source == t for e in ev)
            )


async def test_kill_9_during_a_burst_loses_no_alert(site: Site, broker: ManagedProcess) -> None:
    """The gateway is SIGKILLed mid-burst and restarted: every alert arrives, once."""
    async with district(site, terminals=20, in_process_gateway=False) as d:
        config = site.root / "gateway.toml"
        _write_toml(d.gateway_config, config)
        env = {**GATEWAY_ENV, "PATH": "/usr/bin:/bin"}
        argv = [sys.executable, "-m", "gateway", "run", "--config", str(config)]
        first = ManagedProcess(argv, site.root / "gateway-1.log", env=env).start()
        try:
            first.wait_port("127.0.0.1", d.gateway_config.http.port)
            pressed = []
            for round_ in range(10):
                for t in d.fleet.terminal_ids:
                    pressed.append((t, d.fleet.press(t, HELP[round_ % len(HELP)])))
                if round_ == 4:
                    first.kill9()
                await asyncio.sleep(0.05)
        finally:
            first.kill9()
        with ManagedProcess(argv, site.root / "gateway-2.log", env=env) as second:
            second.wait_port("127.0.0.1", d.gateway_config.http.port)
            for t, a in pressed:
                async with asyncio.timeout(60):
                    await d.fleet.wait_stage(t, a, Stage.DELIVERED)
        delivered = _alert_events(d.center.events)
        assert sorted(delivered) == sorted(pressed)  # each alert recorded exactly once
        assert d.fleet.report().lost == 0


def _write_toml(cfg: GatewayConfig, path: Path) -> None:
    """The in-memory config as the file an operator would write (secrets included)."""
    doc = {
        section: getattr(cfg, section).model_dump(mode="json", exclude_none=True)
        for section in ("mqtt", "registry", "store", "webhook", "http", "api")
    }
    doc["mqtt"]["password"] = cfg.mqtt.password.get_secret_value()
    doc["webhook"]["secret"] = cfg.webhook.secret.get_secret_value()
    path.write_text(tomli_w.dumps(doc))


async def test_a_telemetry_backlog_never_delays_an_emergency(
    site: Site, broker: ManagedProcess
) -> None:
    """With a slow command center and hundreds of health reports waiting in the outbox,
    an emergency pressed last is forwarded within the next round, not behind the backlog.

    Batches are kept small here (10 events, 2 requests in flight) so that the backlog of
    300 takes 15 slow rounds to drain."""
    small_batches: dict[str, object] = {"batch_max": 10, "concurrency": 2, "alarm_concurrency": 1}
    async with district(site, terminals=10, webhook=small_batches) as d:
        d.center.set_mode("slow", delay_s=0.3)
        for _ in range(30):
            for t in d.fleet.terminal_ids:
                d.fleet.send_health(t)
        async with asyncio.timeout(20):
            await d.center.wait_for(lambda ev: any(e.type == "health" for e in ev))
        t = d.fleet.terminal_ids[0]
        alert_id = d.fleet.press(t, AlertKind.EMERGENCY)
        async with asyncio.timeout(30):
            await d.fleet.wait_stage(t, alert_id, Stage.DELIVERED)
        order = [e.type for e in d.center.events]
        health_before = order[: order.index("alert")].count("health")
        assert health_before < 100, f"{health_before} of 300 health events went first"
