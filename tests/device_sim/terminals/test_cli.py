"""``python -m device_sim terminals`` end to end, split across two processes."""

from __future__ import annotations

import asyncio
import json
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
    assert "samples" not in summary
    assert b"Latency" in output
