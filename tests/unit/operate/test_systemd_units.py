"""The shipped systemd units pass ``systemd-analyze verify`` (and a broken one does not)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNITS = Path(__file__).resolve().parents[3] / "configs" / "systemd"
#: Where the units expect the installed gateway; verify checks that the command exists.
INSTALLED_PYTHON = "/opt/eldercare-gateway/.venv/bin/python"


def verify(tmp_path: Path, edit: tuple[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Verify copies of the units, the gateway's command pointed at this interpreter."""
    tool = shutil.which("systemd-analyze")
    assert tool is not None, "systemd-analyze missing: `make system` installs 'systemd'"
    for unit in UNITS.glob("*.service"):
        text = unit.read_text().replace(INSTALLED_PYTHON, sys.executable)
        if edit is not None:
            text = text.replace(*edit)
        (tmp_path / unit.name).write_text(text)
    # A template is verified as an instance of it.
    shutil.copy(tmp_path / "eldercare-broker@.service", tmp_path / "eldercare-broker@town1.service")
    names = ["eldercare-gateway.service", "eldercare-broker@town1.service"]
    return subprocess.run(
        [tool, "verify", "--man=no", *(str(tmp_path / n) for n in names)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_the_units_verify(tmp_path: Path) -> None:
    result = verify(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize(
    "edit",
    [("Restart=always", "Restart=sometimes"), ("/usr/sbin/mosquitto", "/usr/sbin/no-such-broker")],
    ids=["bad-value", "missing-command"],
)
def test_a_broken_unit_is_caught(tmp_path: Path, edit: tuple[str, str]) -> None:
    result = verify(tmp_path, edit)

    assert result.returncode != 0 or result.stderr


def test_the_units_restart_and_raise_the_brokers_file_limit() -> None:
    gateway = (UNITS / "eldercare-gateway.service").read_text()
    broker = (UNITS / "eldercare-broker@.service").read_text()

    for unit in (gateway, broker):
        assert "\nRestart=always\n" in unit
        assert "\nStartLimitBurst=" in unit
    assert "\nRestartPreventExitStatus=2\n" in gateway  # exitcodes.ExitCode.CONFIG
    assert "\nWatchdogSec=" in gateway
    assert "\nLimitNOFILE=65536\n" in broker
