"""Provisioning: demo district, registry and credentials files round-trip."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from firmware_protocol.topics import TERMINAL_ID_RE
from gateway.errors import RegistryError
from gateway.provision import (
    demo_district,
    new_password,
    read_credentials,
    write_credentials,
    write_registry,
)
from gateway.registry import load_registry


def test_demo_district_has_unique_valid_ids_spread_over_villages() -> None:
    terminals = demo_district(500, towns=5, villages_per_town=4, district="D")

    ids = [t.terminal_id for t in terminals]
    assert len(set(ids)) == 500
    assert all(TERMINAL_ID_RE.match(i) for i in ids)
    assert {t.region[0] for t in terminals} == {"D"}
    assert len({t.region for t in terminals}) == 20
    assert all(t.elder_name and t.phone.startswith("13") for t in terminals)


def test_demo_district_is_reproducible_per_seed() -> None:
    assert demo_district(50, seed=3) == demo_district(50, seed=3)
    assert demo_district(50, seed=3) != demo_district(50, seed=4)


def test_registry_round_trip(tmp_path: Path) -> None:
    terminals = demo_district(300)
    path = tmp_path / "site" / "terminals.csv"

    write_registry(path, terminals)
    registry = load_registry(path)

    assert [registry[t.terminal_id] for t in terminals] == terminals
    assert len(registry) == len(terminals)


def test_credentials_round_trip_and_owner_only_mode(tmp_path: Path) -> None:
    credentials = [("T000001", new_password()), ("T000002", new_password())]
    path = tmp_path / "site" / "credentials.csv"

    write_credentials(path, credentials)

    assert list(read_credentials(path)) == credentials
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_new_passwords_are_long_and_distinct() -> None:
    passwords = {new_password() for _ in range(100)}

    assert len(passwords) == 100
    assert all(len(p) >= 22 for p in passwords)


def test_reading_a_file_without_password_column_is_a_registry_error(tmp_path: Path) -> None:
    path = tmp_path / "credentials.csv"
    path.write_text("terminal_id,secret\nT1,x\n", encoding="utf-8")

    with pytest.raises(RegistryError, match="not a credentials sheet"):
        list(read_credentials(path))


def test_reading_a_missing_credentials_file_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="not a credentials sheet"):
        list(read_credentials(tmp_path / "absent.csv"))
