"""Provisioning: demo district, registry and credentials files round-trip."""

from __future__ import annotations

import stat
from dataclasses import replace
from pathlib import Path

import pytest

from firmware_protocol.topics import TERMINAL_ID_RE
from gateway.errors import RegistryError
from gateway.provision import (
    Credential,
    assign_zones,
    demo_district,
    new_password,
    read_credentials,
    write_credentials,
    write_registry,
    zones_of,
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


def test_registry_round_trip_with_zones(tmp_path: Path) -> None:
    terminals = assign_zones(demo_district(40, towns=3), "district")
    path = tmp_path / "terminals.csv"

    write_registry(path, terminals)

    assert path.read_text(encoding="utf-8").splitlines()[0].endswith(",phone,zone")
    assert list(load_registry(path).values()) == terminals


def test_credentials_round_trip_and_owner_only_mode(tmp_path: Path) -> None:
    credentials = [
        Credential("T000001", new_password(), "mqtts://h:8883"),
        Credential("T000002", new_password(), "mqtts://h:8884"),
    ]
    path = tmp_path / "site" / "credentials.csv"

    write_credentials(path, credentials)

    assert list(read_credentials(path)) == credentials
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_new_passwords_are_long_and_distinct() -> None:
    passwords = {new_password() for _ in range(100)}

    assert len(passwords) == 100
    assert all(len(p) >= 22 for p in passwords)


def test_no_new_password_starts_with_a_dash() -> None:
    """A technician passes passwords on command lines (``mosquitto_pub -P …``, the
    simulator's options): one starting with ``-`` reads as an option there."""
    starts = {new_password()[0] for _ in range(3000)}

    assert "-" not in starts


def test_reading_a_file_without_password_column_is_a_registry_error(tmp_path: Path) -> None:
    path = tmp_path / "credentials.csv"
    path.write_text("terminal_id,secret\nT1,x\n", encoding="utf-8")  # no password column

    with pytest.raises(RegistryError, match="not a credentials sheet"):
        list(read_credentials(path))


def test_reading_a_missing_credentials_file_is_a_registry_error(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="not a credentials sheet"):
        list(read_credentials(tmp_path / "absent.csv"))


def test_a_district_gives_each_town_a_zone_in_order_of_appearance() -> None:
    terminals = assign_zones(demo_district(50, towns=3, villages_per_town=2), "district")

    assert zones_of(terminals) == ["town01", "town02", "town03"]
    by_town = {t.region[1]: t.zone for t in terminals}
    assert len(by_town) == 3
    assert all(by_town[t.region[1]] == t.zone for t in terminals)


def test_zones_in_the_registry_are_kept_and_decide_auto() -> None:
    plain = demo_district(4, towns=2)
    zoned = [replace(t, zone="north" if n % 2 else "south") for n, t in enumerate(plain)]

    assert assign_zones(zoned, "auto") == zoned
    assert assign_zones(zoned, "district") == zoned
    assert assign_zones(plain, "auto") == plain
    assert zones_of(assign_zones(plain, "single")) == []


def test_mixed_or_unwanted_zones_are_errors_naming_a_terminal() -> None:
    plain = demo_district(3)
    mixed = [replace(plain[0], zone="north"), *plain[1:]]

    with pytest.raises(RegistryError, match="T000002 has no zone"):
        assign_zones(mixed, "district")
    with pytest.raises(RegistryError, match="T000001 has a zone"):
        assign_zones(mixed, "single")
