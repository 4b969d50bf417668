"""Terminals added, moved and removed while the gateway runs, with a real Mosquitto.

``python -m gateway reload`` checks the registry, rewrites the broker's accounts,
sends the broker SIGHUP (its PID file) and the gateway SIGHUP (its PID file).
"""

from __future__ import annotations

import asyncio
import csv
import os
import signal
from pathlib import Path

import aiomqtt
import httpx
import pytest
from aiomqtt.exceptions import MqttConnectError

from device_sim.procs import ManagedProcess
from firmware_protocol.messages import Stage
from tests.support.gateway_process import (
    TOKEN,
    command,
    gateway_process,
    metric,
    until_metric,
    wait_healthy,
    write_config,
)
from tests.support.site import Site
from tests.support.terminal import connect_terminal

pytestmark = pytest.mark.integration

NEW = "T900001"
NEW_PASSWORD = "new-terminal-password-1"


def _append(path: Path, row: list[str]) -> None:
    with path.open("a", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerow(row)


def _rewrite_registry(site: Site, drop: str = "", move: str = "") -> None:
    with site.registry_path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    kept = [r for r in rows if r[0] != drop]
    for row in kept:
        if row[0] == move:
            row[4] = "新迁入村"
    with site.registry_path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(kept)


async def _alert_region(port: int, terminal_id: str, alert_id: str) -> list[str]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        response = await http.get(
            f"/api/v1/alerts/{terminal_id}/{alert_id}", headers={"authorization": f"Bearer {TOKEN}"}
        )
    region: list[str] = response.json()["region"]
    return region


async def _dropped(client: aiomqtt.Client, topic: str) -> None:
    """Publish until the broker has closed the connection under us."""
    while True:
        try:
            await client.publish(topic, b'{"v":1}', qos=1, timeout=1)
        except aiomqtt.MqttError:
            return
        await asyncio.sleep(0.1)


async def test_terminals_are_added_moved_and_removed_without_a_restart(
    site: Site, broker: ManagedProcess
) -> None:
    assert broker.proc is not None
    broker_pid = site.root / "broker.pid"
    broker_pid.write_text(f"{broker.proc.pid}\n")
    config = site.root / "gateway.toml"
    doc = write_config(site, config, reload={
        "pid_file": str(site.root / "gateway.pid"), "credentials": str(site.credentials_path),
        "broker_dir": str(site.provisioned.root), "brokers": [f"pidfile:{broker_pid}"],
    })  # fmt: skip
    port = doc["http"]["port"]
    gone, moved = site.terminals[0].terminal_id, site.terminals[1].terminal_id
    with gateway_process(config, site.root / "gateway.log") as gateway:
        await wait_healthy(port, gateway)

        # Added: registry row and password, one command, and its first alarm is received.
        _append(site.registry_path, [NEW, "新用户", "示范区", "城关街道", "幸福社区1", ""])
        _append(site.credentials_path, [NEW, NEW_PASSWORD])
        result = command("reload", "--config", str(config))
        assert result.returncode == 0, result.stderr
        assert "sent SIGHUP" in result.stdout
        async with connect_terminal(site.broker_port, NEW, NEW_PASSWORD) as terminal:
            await terminal.alert("first-press")
            async with asyncio.timeout(15):
                await terminal.wait_ack("first-press", Stage.RECEIVED.value)

        # Moved and removed: the removed terminal is connected when it happens.
        async with aiomqtt.Client(
            "127.0.0.1", site.broker_port, username=gone, password=site.passwords[gone],
            identifier=gone,
        ) as removed:  # fmt: skip
            _rewrite_registry(site, drop=gone, move=moved)
            result = command("reload", "--config", str(config))
            assert result.returncode == 0, result.stderr
            async with asyncio.timeout(10):
                await _dropped(removed, f"ec/v1/t/{gone}/alert")
        with pytest.raises(MqttConnectError):
            async with aiomqtt.Client(
                "127.0.0.1", site.broker_port, username=gone, password=site.passwords[gone],
                identifier=gone,
            ):  # fmt: skip
                pass
        async with connect_terminal(site.broker_port, moved, site.passwords[moved]) as terminal:
            await terminal.alert("after-move")
            async with asyncio.timeout(15):
                await terminal.wait_ack("after-move", Stage.RECEIVED.value)
        assert (await _alert_region(port, moved, "after-move"))[2] == "新迁入村"
        assert await metric(port, 'gateway_registry_reloads_total{outcome="applied"}') == 2


async def test_a_bad_registry_file_leaves_the_old_one_in_force(
    site: Site, broker: ManagedProcess
) -> None:
    config = site.root / "gateway.toml"
    pid_file = site.root / "gateway.pid"
    doc = write_config(site, config, reload={"pid_file": str(pid_file)})
    port = doc["http"]["port"]
    good = site.registry_path.read_text(encoding="utf-8")
    t = site.terminals[0].terminal_id
    with gateway_process(config, site.root / "gateway.log") as gateway:
        await wait_healthy(port, gateway)
        site.registry_path.write_text(good + "T 1,坏行,示范区,城关街道,幸福社区1,\n")

        # The command checks first and changes nothing …
        result = command("reload", "--config", str(config))
        assert result.returncode == 2
        bad_line = f"{site.registry_path}:{len(site.terminals) + 2}: invalid terminal_id"
        assert bad_line in result.stderr

        # … and a gateway told directly keeps the registry it has.
        os.kill(int(pid_file.read_text()), signal.SIGHUP)
        async with asyncio.timeout(10):
            await until_metric(port, 'gateway_registry_reloads_total{outcome="rejected"}', 1)
        async with connect_terminal(site.broker_port, t, site.passwords[t]) as terminal:
            await terminal.alert("still-known")
            async with asyncio.timeout(15):
                await terminal.wait_ack("still-known", Stage.RECEIVED.value)
        assert await metric(port, "gateway_registry_terminals ") == len(site.terminals)
    log = (site.root / "gateway.log").read_text()
    assert "registry reload rejected" in log
    assert f"terminals.csv:{len(site.terminals) + 2}: invalid terminal_id" in log
