"""``python -m gateway elders sample|import``: records into the database, all or nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _gateway(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip


def test_sample_then_import_then_a_bad_file_changes_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert _gateway("provision", "--out", str(site), "--demo-terminals", "12", "--towns", "2",
                    "--villages-per-town", "2").returncode == 0  # fmt: skip
    config = tmp_path / "gw.toml"
    db = tmp_path / "gateway.db"
    config.write_text(f'[registry]\npath = "{site / "terminals.csv"}"\n[store]\npath = "{db}"\n')
    elders = site / "elders.csv"

    sampled = _gateway("elders", "sample", "--registry", str(site / "terminals.csv"),
                       "--out", str(elders))  # fmt: skip
    imported = _gateway("elders", "import", str(elders), "--config", str(config), "--actor", "li")
    again = _gateway("elders", "import", str(elders), "--config", str(config))

    assert sampled.returncode == 0, sampled.stderr
    assert imported.returncode == 0, imported.stderr
    assert "12 created, 0 changed, 0 unchanged" in imported.stdout
    assert "0 created, 0 changed, 12 unchanged" in again.stdout
    broken = tmp_path / "broken.csv"
    lines = elders.read_text(encoding="utf-8").splitlines()
    broken.write_text("\n".join([lines[0], lines[1].replace("T000001", "T000001X")]) + "\n")
    refused = _gateway("elders", "import", str(broken), "--config", str(config))
    assert refused.returncode == 2
    assert "broken.csv:2: terminal_id: 'T000001X' is not in the registry" in refused.stderr
    with sqlite3.connect(db) as conn:
        counts = conn.execute("SELECT count(*) FROM elders").fetchone()
        audit = conn.execute("SELECT actor, action FROM audit_log ORDER BY id").fetchall()
    conn.close()
    assert counts == (12,)
    assert audit[0] == ("li", "elder.imported")
