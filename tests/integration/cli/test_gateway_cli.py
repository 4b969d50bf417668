"""``python -m gateway`` as an operator runs it."""

from __future__ import annotations

import csv
import json
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


def test_provision_a_demo_then_check_config(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = _gateway("provision", "--out", str(site), "--demo-terminals", "30")
    assert result.returncode == 0, result.stderr
    assert (site / "credentials.csv").stat().st_mode & 0o077 == 0
    assert (site / "tls" / "ca.key").stat().st_mode & 0o077 == 0
    result = _gateway("check-config", str(site / "gateway.toml"))
    assert result.returncode == 0, result.stderr
    assert "30 terminals" in result.stdout
    assert "broker 127.0.0.1:1882," in result.stdout


REGISTRY = """terminal_id,elder_name,district,town,village,phone,zone
T1,王秀兰,,城关街道,幸福社区,13800000001,north
T2,李建国,示范区,城关街道,和平社区,,north
T3,张桂英,,新华镇,建设村,,south
"""


def test_provision_from_a_real_registry_makes_a_broker_per_zone(tmp_path: Path) -> None:
    registry, site = tmp_path / "terminals.csv", tmp_path / "site"
    registry.write_text(REGISTRY, encoding="utf-8")

    result = _gateway(
        "provision", "--out", str(site), "--registry", str(registry), "--district", "示范区",
        "--host", "broker.example", "--tls-port", "9883", "--bridge-port", "9882",
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert "2 town brokers bridged" in result.stdout
    brokers = json.loads((site / "topology.json").read_text())["brokers"]
    assert [b["name"] for b in brokers] == ["district", "north", "south"]
    rows = list(csv.DictReader((site / "credentials.csv").read_text().splitlines()))
    assert [r["broker"] for r in rows] == [
        "mqtts://broker.example:9883", "mqtts://broker.example:9883",
        "mqtts://broker.example:9884",
    ]  # fmt: skip
    written = list(csv.DictReader((site / "terminals.csv").read_text("utf-8").splitlines()))
    assert {r["district"] for r in written} == {"示范区"}
    check = _gateway("check-config", str(site / "gateway.toml"))
    assert check.returncode == 0, check.stderr
    assert "3 terminals" in check.stdout
    assert "district: 2 bridged zones" in check.stdout
    assert "own_process = true" in (site / "gateway.toml").read_text()  # said where to set it


def test_provision_refuses_a_registry_of_another_district(tmp_path: Path) -> None:
    registry = tmp_path / "terminals.csv"
    registry.write_text(REGISTRY.replace(",示范区,", ",别的区,"), encoding="utf-8")

    result = _gateway(
        "provision", "--out", str(tmp_path / "site"), "--registry", str(registry),
        "--district", "示范区",
    )  # fmt: skip

    assert result.returncode == 2
    assert "terminals.csv:3: district '别的区'" in result.stderr
    assert not (tmp_path / "site").exists()


def test_provision_wants_a_registry_or_an_explicit_demo(tmp_path: Path) -> None:
    result = _gateway("provision", "--out", str(tmp_path / "site"))

    assert result.returncode == 2
    assert "--registry FILE, or --demo-terminals N" in result.stderr


def test_broker_files_rewrites_each_town_brokers_accounts(tmp_path: Path) -> None:
    registry, site = tmp_path / "terminals.csv", tmp_path / "site"
    registry.write_text(REGISTRY.replace(",,", ",示范区,", 1), encoding="utf-8")
    assert _gateway("provision", "--out", str(site), "--registry", str(registry),
                    "--district", "示范区").returncode == 0  # fmt: skip
    sheet = (site / "credentials.csv").read_text().splitlines()
    (site / "credentials.csv").write_text("\n".join(sheet[:3]) + "\n")  # T3 removed

    result = _gateway("broker-files", "--site", str(site))

    assert result.returncode == 0, result.stderr
    assert "north: 2 terminal accounts" in result.stdout
    assert "south: 0 terminal accounts" in result.stdout
    users = [x.split(":")[0] for x in (site / "brokers/north/terminals.passwd").read_text().split()]
    assert users == ["T1", "T2"]


def _site_config(tmp_path: Path, db: Path) -> Path:
    site = tmp_path / "site"
    assert _gateway("provision", "--out", str(site), "--demo-terminals", "3").returncode == 0
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
