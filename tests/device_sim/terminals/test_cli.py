"""``python -m device_sim terminals`` end to end, split across two processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.device_sim.terminals.broker import MosquittoBroker
from tests.device_sim.terminals.gateway_double import GatewayDouble, stop

pytestmark = pytest.mark.integration


async def test_two_processes_merge_their_summaries(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    summary_path = tmp_path / "summary.json"
    gateway = GatewayDouble(mosquitto.port)
    args = [
        "--broker-port", str(mosquitto.port), "--credentials", str(mosquitto.credentials_csv),
        "--processes", "2", "--duration", "1", "--alert-rate", "4", "--storm", "4",
        "--storm-at", "0", "--storm-window", "0.5", "--grace", "10", "--seed", "3",
        "--no-progress", "--strict", "--summary-json", str(summary_path),
    ]  # fmt: skip
    async with asyncio.TaskGroup() as tg:
        gateway_task = tg.create_task(gateway.run())
        await gateway.ready.wait()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "device_sim", "terminals", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            async with asyncio.timeout(60):
                output, _ = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            await stop(gateway_task)
    assert process.returncode == 0, output.decode()
    summary = json.loads(summary_path.read_text())
    assert summary["terminals"] == len(mosquitto.terminals)
    assert summary["connected"] == len(mosquitto.terminals)
    assert summary["alerts_by_kind"]["emergency"] >= 4
    assert summary["lost"] == 0
    assert summary["latency"]["press_to_received"]["count"] == summary["alerts_sent"]
    # The storm began at 0: every press (both children's) counts with it.
    assert summary["latency"]["storm_press_to_received"]["count"] == summary["alerts_sent"]
    assert summary["latency"]["nominal_press_to_received"]["count"] == 0
    assert "samples" not in summary
    assert b"Latency" in output


async def test_two_processes_over_tls_to_the_brokers_the_sheet_names(
    mosquitto_tls: MosquittoBroker, tmp_path: Path
) -> None:
    assert mosquitto_tls.tls is not None
    sheet = tmp_path / "credentials.csv"
    rows = [f"{c.terminal_id},{c.password},mqtts://localhost:{mosquitto_tls.tls_port}"
            for c in mosquitto_tls.terminals]  # fmt: skip
    sheet.write_text("\n".join(["terminal_id,password,broker", *rows]) + "\n")
    summary_path = tmp_path / "summary.json"
    args = [
        "--credentials", str(sheet), "--ca-file", str(mosquitto_tls.tls.ca),
        "--processes", "2", "--duration", "1", "--alert-rate", "4", "--grace", "10",
        "--seed", "3", "--no-progress", "--strict", "--summary-json", str(summary_path),
    ]  # fmt: skip
    gateway = GatewayDouble(mosquitto_tls.port)
    async with asyncio.TaskGroup() as tg:
        gateway_task = tg.create_task(gateway.run())
        await gateway.ready.wait()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "device_sim", "terminals", *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        try:
            async with asyncio.timeout(60):
                output, _ = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
            await stop(gateway_task)
    assert process.returncode == 0, output.decode()
    summary = json.loads(summary_path.read_text())
    assert summary["connected"] == len(mosquitto_tls.terminals)
    assert summary["connect_failures"] == 0
    assert summary["lost"] == 0
    cost = summary["cost"]
    assert (cost["terminals"], cost["processes"]) == (len(mosquitto_tls.terminals), 2)
    assert cost["rss_bytes"] > cost["rss_start_bytes"] > 0
    assert cost["connect_s"] is not None
    assert b"Cost" in output


def test_tls_without_a_ca_file_is_refused_naming_the_option(tmp_path: Path) -> None:
    sheet = tmp_path / "credentials.csv"
    sheet.write_text("terminal_id,password,broker\nt1,p,mqtts://localhost:8883\n")
    result = subprocess.run(
        [sys.executable, "-m", "device_sim", "terminals", "--credentials", str(sheet)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--ca-file" in result.stdout + result.stderr
