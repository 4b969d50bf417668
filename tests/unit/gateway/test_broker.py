"""Broker files: hashed password files, ACLs per listener, and the Mosquitto configuration."""

from __future__ import annotations

import base64
import hashlib
import shutil
import stat
from pathlib import Path

import pytest

from gateway.broker import (
    AUTOSAVE_INTERVAL_S,
    DISTRICT_AUTOSAVE_INTERVAL_S,
    GATEWAY_SIDE,
    MAX_PACKET_SIZE,
    TOWN,
    BrokerDir,
    BrokerSettings,
    bridges_acl,
    gateway_acl,
    render_conf,
    terminal_acl,
    write_passwd,
)
from gateway.errors import GatewayError
from gateway.topology import OPEN_FILES, PortPlan, plan_topology

needs_passwd = pytest.mark.skipif(
    shutil.which("mosquitto_passwd") is None, reason="needs mosquitto_passwd"
)
ACCOUNTS = [("T0001", "pw-terminal-one"), ("T0002", "pw-terminal-two")]
PORTS = PortPlan((8883, 8884), (1883, 1884), gateway=1882, bridges=8882)


def matches(password: str, hashed: str) -> bool:
    """Check a Mosquitto ``$7$iterations$salt$digest`` (PBKDF2-SHA512) entry."""
    _, scheme, iterations, salt, digest = hashed.split("$")
    assert scheme == "7"
    derived = hashlib.pbkdf2_hmac(
        "sha512", password.encode(), base64.b64decode(salt), int(iterations), 64
    )
    return derived == base64.b64decode(digest)


@needs_passwd
def test_passwords_are_hashed_by_mosquitto_passwd(tmp_path: Path) -> None:
    path = tmp_path / "terminals.passwd"
    write_passwd(path, ACCOUNTS)

    lines = path.read_text(encoding="utf-8").splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["T0001", "T0002"]
    for line, (_, password) in zip(lines, ACCOUNTS, strict=True):
        hashed = line.split(":", 1)[1]
        assert password not in hashed
        assert matches(password, hashed)
        assert not matches(password + "x", hashed)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@needs_passwd
@pytest.mark.parametrize(
    "account", [("T:1", "pw"), ("T1\nuser root", "pw"), ("T1", "pw\nT2:x"), ("", "pw")], ids=repr
)
def test_account_that_could_inject_a_line_is_refused(
    tmp_path: Path, account: tuple[str, str]
) -> None:
    with pytest.raises(GatewayError, match="invalid broker account"):
        write_passwd(tmp_path / "p", [account])


@needs_passwd
def test_regenerating_replaces_the_old_accounts(tmp_path: Path) -> None:
    path = tmp_path / "terminals.passwd"
    write_passwd(path, ACCOUNTS)
    write_passwd(path, [("T0009", "new-pw")])

    assert [line.split(":", 1)[0] for line in path.read_text().splitlines()] == ["T0009"]


def test_terminal_acl_confines_each_terminal_to_its_own_topics() -> None:
    acl = terminal_acl().splitlines()

    for channel in ("alert", "health", "status"):
        assert f"pattern write ec/v1/t/%u/{channel}" in acl
    for channel in ("ack", "cmd"):
        assert f"pattern read ec/v1/t/%u/{channel}" in acl
    assert not any(line.startswith(("topic", "user")) for line in acl)


@pytest.mark.parametrize(("bridged", "base"), [(False, "ec/v1/t/+"), (True, "ec/v1/z/+/t/+")])
def test_gateway_acl_reads_every_uplink_writes_every_downlink(bridged: bool, base: str) -> None:
    acl = gateway_acl("gw-account", bridged).splitlines()

    assert acl[2] == "user gw-account"
    assert {f"topic read {base}/{c}" for c in ("alert", "health", "status")} <= set(acl)
    assert {f"topic write {base}/{c}" for c in ("ack", "cmd")} <= set(acl)
    assert "topic read $SYS/broker/publish/messages/dropped" in acl
    assert ("topic read ec/v1/z/+/bridge" in acl) is bridged


def test_bridges_acl_confines_each_town_to_its_zone() -> None:
    acl = bridges_acl(["north", "south"])
    north = acl.split("user bridge-north\n")[1].split("user bridge-south")[0].splitlines()

    assert "topic write ec/v1/z/north/t/+/alert" in north
    assert "topic read ec/v1/z/north/t/+/ack" in north
    assert "topic write ec/v1/z/north/bridge" in north
    assert not any("south" in line or "z/+/" in line for line in north)


def _conf(tmp_path: Path, zones: list[str], name: str, **options: object) -> list[str]:
    topology = plan_topology(zones, PORTS, host="broker.example")
    plan = next(b for b in topology.brokers if b.name == name)
    text = render_conf(plan, BrokerDir(tmp_path / name), tmp_path / "ca.crt", **options)  # type: ignore[arg-type]
    return text.splitlines()


def _section(lines: list[str], start: str) -> list[str]:
    """The lines of one listener (or bridge) block."""
    at = lines.index(start)
    end = next((i for i in range(at + 1, len(lines)) if lines[i] == ""), len(lines))
    return lines[at:end]


def test_the_district_broker_saves_its_state_less_often_than_the_others(tmp_path: Path) -> None:
    district = _conf(tmp_path, ["north", "south"], "district")
    town = _conf(tmp_path, ["north", "south"], "north", bridge_password="s3cret")
    single = _conf(tmp_path, [], "site")
    tuned = BrokerSettings(autosave_interval_s=30, district_autosave_interval_s=600)

    assert f"autosave_interval {DISTRICT_AUTOSAVE_INTERVAL_S}" in district
    assert f"autosave_interval {AUTOSAVE_INTERVAL_S}" in town
    assert f"autosave_interval {AUTOSAVE_INTERVAL_S}" in single
    # A save stalls the broker for as long as writing what it holds takes: the district
    # broker holds every terminal's retained status.
    assert DISTRICT_AUTOSAVE_INTERVAL_S > AUTOSAVE_INTERVAL_S
    assert "autosave_interval 600" in _conf(tmp_path, ["north"], "district", settings=tuned)
    assert "autosave_interval 30" in _conf(
        tmp_path, ["north"], "north", bridge_password="s3cret", settings=tuned
    )


def test_single_broker_listeners(tmp_path: Path) -> None:
    conf = _conf(tmp_path, [], "site", settings=BrokerSettings(persistence=False))
    root = (tmp_path / "site").resolve()

    assert conf[2] == "per_listener_settings true"
    assert f"max_packet_size {MAX_PACKET_SIZE}" in conf
    assert f"max_queued_messages {GATEWAY_SIDE.messages}" in conf
    assert "persistence false" in conf
    tls = _section(conf, "listener 8883 0.0.0.0")
    assert "tls_version tlsv1.2" in tls
    assert f"certfile {root / 'server.crt'}" in tls
    assert "use_username_as_clientid true" in tls
    assert f"password_file {root / 'terminals.passwd'}" in tls
    plain = _section(conf, "listener 1883 127.0.0.1")
    assert "use_username_as_clientid true" in plain
    assert not any(line.startswith("certfile") for line in plain)
    gateway = _section(conf, "listener 1882 127.0.0.1")
    assert f"password_file {root / 'gateway.passwd'}" in gateway
    assert f"acl_file {root / 'gateway.acl'}" in gateway
    assert "use_username_as_clientid true" not in gateway
    assert "connection district" not in conf


def test_connection_limits_stay_inside_the_open_file_budget(tmp_path: Path) -> None:
    conf = _conf(tmp_path, [], "site")
    limits = [int(line.split()[1]) for line in conf if line.startswith("max_connections")]

    assert len(limits) == 3
    assert max(limits) < OPEN_FILES


def test_town_broker_bridges_its_zone_only(tmp_path: Path) -> None:
    conf = _conf(tmp_path, ["north", "south"], "south", bridge_password="s3cret")

    assert f"max_queued_messages {TOWN.messages}" in conf
    assert f"max_queued_bytes {TOWN.bytes}" in conf
    assert not any(line.startswith("listener 1882") for line in conf)
    bridge = conf[conf.index("connection district") :]
    assert "address broker.example:8882" in bridge
    assert "remote_username bridge-south" in bridge
    assert "remote_password s3cret" in bridge
    assert "cleansession false" in bridge
    assert "bridge_insecure false" in bridge
    assert f"bridge_cafile {(tmp_path / 'ca.crt').resolve()}" in bridge
    topics = [line for line in bridge if line.startswith("topic t/")]
    assert topics == [
        "topic t/+/alert out 1 ec/v1/ ec/v1/z/south/",
        "topic t/+/health out 1 ec/v1/ ec/v1/z/south/",
        "topic t/+/status out 1 ec/v1/ ec/v1/z/south/",
        "topic t/+/ack in 1 ec/v1/ ec/v1/z/south/",
        "topic t/+/cmd in 1 ec/v1/ ec/v1/z/south/",
    ]


def test_district_broker_serves_the_gateway_and_the_bridges(tmp_path: Path) -> None:
    conf = _conf(tmp_path, ["north", "south"], "district")

    bridges = _section(conf, "listener 8882 0.0.0.0")
    assert "use_username_as_clientid true" in bridges
    assert any(line.startswith("certfile") for line in bridges)
    assert any(line.endswith("bridges.acl") for line in bridges)
    assert _section(conf, "listener 1882 127.0.0.1")
    assert "connection district" not in conf
    assert not any(line.startswith("listener 8883") for line in conf)


def test_a_bridge_needs_its_password(tmp_path: Path) -> None:
    with pytest.raises(GatewayError, match="needs a password"):
        _conf(tmp_path, ["north"], "north")
