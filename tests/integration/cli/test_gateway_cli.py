"""``python -m gateway`` as an operator runs it."""

from __future__ import annotations

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
