"""``python -m gateway`` as an operator runs it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def _gateway(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True, timeout=60,
        env=env,
    )  # fmt: skip


def test_check_config_names_the_bad_key(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text("[mqtt]\nport = 1883\nhots = 'typo'\n")
    result = _gateway("check-config", str(config))
    assert result.returncode == 2
    assert "mqtt.hots" in result.stderr


def test_check_config_names_an_out_of_range_env_override(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text("")
    env = {"GATEWAY__HTTP__PORT": "99999", "PATH": "/usr/bin:/bin"}
    result = _gateway("check-config", str(config), env=env)
    assert result.returncode == 2
    assert "http.port" in result.stderr


def test_provision_then_check_config(tmp_path: Path) -> None:
    site = tmp_path / "site"
    assert _gateway("provision", "--out", str(site), "--terminals", "30").returncode == 0
    assert (site / "credentials.csv").stat().st_mode & 0o077 == 0
    config = tmp_path / "gw.toml"
    config.write_text(f'[registry]\npath = "{site / "terminals.csv"}"\n')
    result = _gateway("check-config", str(config))
    assert result.returncode == 0, result.stderr
    assert "30 terminals" in result.stdout


def _site_config(tmp_path: Path, db: Path) -> Path:
    site = tmp_path / "site"
    assert _gateway("provision", "--out", str(site), "--terminals", "3").returncode == 0
    config = tmp_path / "gw.toml"
    config.write_text(
        f'[registry]\npath = "{site / "terminals.csv"}"\n'
        f'[store]\npath = "{db}"\n[http]\nport = 0\n[console]\nenabled = false\n'
    )
    return config


@pytest.mark.parametrize("damage", ["newer_schema", "not_a_database"])
def test_a_store_that_cannot_be_opened_ends_the_process(tmp_path: Path, damage: str) -> None:
    db = tmp_path / "gateway.db"
    if damage == "newer_schema":
        conn = sqlite3.connect(db)
        conn.execute("PRAGMA user_version = 999")
        conn.close()
    else:
        db.write_bytes(b"this is no SQLite file" * 100)

    # Exits by itself (a thread left running would hold the process until the timeout).
    result = _gateway("run", "--config", str(_site_config(tmp_path, db)))

    assert result.returncode != 0
    assert str(db) in result.stderr
    assert "Traceback" not in result.stderr
