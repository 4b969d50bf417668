"""Online backup while the gateway stores alarms, then a gateway started on the restore."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path

import pytest

from device_sim.procs import ManagedProcess
from firmware_protocol.messages import Stage
from tests.support.gateway import running_gateway
from tests.support.gateway_process import ENV, command, write_config
from tests.support.site import Site
from tests.support.terminal import ScriptedTerminal, connect_terminal
from tests.support.wait import until

pytestmark = pytest.mark.integration


async def _press_until(terminal: ScriptedTerminal, stop: asyncio.Event, acked: list[str]) -> None:
    n = 0
    while not stop.is_set():
        alert_id = f"b-{n}"
        await terminal.alert(alert_id)
        async with asyncio.timeout(10):
            await terminal.wait_ack(alert_id, Stage.RECEIVED.value)
        acked.append(alert_id)
        n += 1


def _alerts(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {row[0] for row in conn.execute("SELECT alert_id FROM alerts")}


async def test_a_backup_taken_mid_write_has_every_acknowledged_alarm_and_restores(
    site: Site, broker: ManagedProcess
) -> None:
    config = site.root / "gateway.toml"
    write_config(site, config)
    cfg = site.config(console={"enabled": False})
    copy = site.root / "backups" / "gateway-copy.db"
    t = site.terminals[0].terminal_id
    stop, acked = asyncio.Event(), list[str]()
    # One terminal connection across both gateways, as a real terminal would stay online.
    async with connect_terminal(site.broker_port, t, site.passwords[t]) as term:
        async with running_gateway(cfg):
            writer = asyncio.create_task(_press_until(term, stop, acked))
            async with asyncio.timeout(15):
                await until(lambda: len(acked) >= 20)
            acked_before = list(acked)
            backup = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "gateway", "backup", "--config", str(config),
                "--to", str(copy), env=ENV, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, err = await backup.communicate()
            stop.set()
            await writer
            assert backup.returncode == 0, err.decode()
        assert "backed up" in out.decode()
        assert len(acked) > len(acked_before)  # the gateway kept writing during the copy
        assert set(acked_before) <= _alerts(copy)
        assert copy.stat().st_mode & 0o077 == 0

        # Restore into the store path of a new gateway, and start it there.
        restored = site.root / "restored.db"
        write_config(site, config, store={"path": str(restored)})
        result = command("restore", "--config", str(config), "--from", str(copy))
        assert result.returncode == 0, result.stderr
        assert _alerts(restored) == _alerts(copy)
        cfg = site.config(console={"enabled": False}, store={"path": str(restored)})
        old = acked_before[0]
        answers_before = sum(1 for a in term.acks if a["alert_id"] == old)
        async with running_gateway(cfg):
            await term.alert("after-restore")
            await term.alert(old)  # a retransmission of a stored alarm
            async with asyncio.timeout(15):
                await term.wait_ack("after-restore", Stage.RECEIVED.value)
                await until(lambda: sum(1 for a in term.acks if a["alert_id"] == old)
                            > answers_before)  # fmt: skip
    assert "after-restore" in _alerts(restored)


def test_restore_refuses_a_file_that_is_not_a_backup(site: Site, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    write_config(site, config)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite" * 100)

    result = command("restore", "--config", str(config), "--from", str(junk))

    assert result.returncode == 3
    assert "not a usable gateway database" in result.stderr
    assert not (site.root / "gateway.db").exists()
