"""What breaks the store, and what the gateway does then: a full disk and a read-only
file end the process with their own exit status and one clear log line; nothing that
was acknowledged is missing."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path

import pytest

from device_sim.procs import ManagedProcess
from firmware_protocol.messages import Stage
from gateway.app import Gateway
from gateway.errors import StoreFull
from gateway.exitcodes import ExitCode, exit_code_for
from gateway.registry import load_registry
from tests.support.gateway_process import command, gateway_process, write_config
from tests.support.site import Site
from tests.support.terminal import connect_terminal
from tests.unit.gateway.helpers import sample

pytestmark = pytest.mark.integration

#: Root may write any file; run the gateway without that privilege for the read-only case.
UNPRIVILEGED = (
    ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []
)


async def test_a_full_disk_ends_the_gateway_and_nothing_acknowledged_is_lost(
    site: Site, broker: ManagedProcess
) -> None:
    cfg = site.config(console={"enabled": False})
    gateway = Gateway(cfg, load_registry(cfg.registry.path), {})
    full_before = sample("gateway_store_errors_total", kind="full")
    t = site.terminals[0].terminal_id
    task = asyncio.create_task(gateway.run())
    async with asyncio.timeout(15):
        await gateway.ready.wait()
    assert gateway.db is not None
    # SQLite's own size limit stands in for the disk: the next page it needs is refused.
    async with gateway.db.writer.execute("PRAGMA page_count") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    await gateway.db.writer.execute(f"PRAGMA max_page_count = {row[0]}")
    received: list[str] = []
    async with connect_terminal(site.broker_port, t, site.passwords[t]) as terminal:
        for n in range(2000):
            if task.done():
                break
            alert_id = f"full-{n}"
            await terminal.alert(alert_id)
            try:
                async with asyncio.timeout(2):
                    await terminal.wait_ack(alert_id, Stage.RECEIVED.value)
                received.append(alert_id)
            except TimeoutError:
                break
        with pytest.raises(BaseExceptionGroup) as ended:
            async with asyncio.timeout(15):
                await task

    assert exit_code_for(ended.value) is ExitCode.DISK_FULL
    assert sample("gateway_store_errors_total", kind="full") > full_before
    with sqlite3.connect(cfg.store.path) as conn:
        stored = {r[0] for r in conn.execute("SELECT alert_id FROM alerts WHERE terminal_id = ?",
                                             (t,))}  # fmt: skip
    assert set(received) <= stored  # persist, then acknowledge


def test_a_read_only_database_exits_with_its_status_and_one_clear_line(
    site: Site, broker: ManagedProcess
) -> None:
    config = site.root / "gateway.toml"
    write_config(site, config)
    db = site.root / "gateway.db"
    assert command("backup", "--config", str(config), "--to", str(db)).returncode != 0  # no db yet
    sqlite3.connect(db).close()
    prepared = command("accounts", "list", "--config", str(config))  # creates the schema
    assert prepared.returncode == 0, prepared.stderr
    db.chmod(0o444)

    with gateway_process(config, site.root / "gateway.log", prefix=UNPRIVILEGED) as gateway:
        assert gateway.proc is not None
        code = gateway.proc.wait(timeout=60)

    log = (site.root / "gateway.log").read_text()
    assert code == ExitCode.READ_ONLY, log
    assert "Traceback" not in log
    [line] = [line for line in log.splitlines() if "CRITICAL" in line]
    assert "readonly" in line
    assert "exit 5, read_only" in line


async def test_store_full_is_its_own_error_kind(tmp_path: Path) -> None:
    from gateway.store.db import open_database

    async with open_database(tmp_path / "gateway.db") as db:
        await db.writer.execute("PRAGMA max_page_count = 1")
        with pytest.raises(StoreFull, match="full"):
            async with db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO audit_log (at, actor, action) VALUES (?, ?, ?)",
                    [(1.0, "x" * 500, "y")] * 200,
                )
