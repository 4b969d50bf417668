"""Broker files: hashed password file, per-terminal ACL, and the Mosquitto configuration."""

from __future__ import annotations

import base64
import getpass
import hashlib
import shutil
import stat
from pathlib import Path

import pytest

from gateway.broker import write_broker_files
from gateway.errors import GatewayError

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto_passwd") is None, reason="needs mosquitto_passwd"
)


def matches(password: str, hashed: str) -> bool:
    """Check a Mosquitto ``$7$iterations$salt$digest`` (PBKDF2-SHA512) entry."""
    _, scheme, iterations, salt, digest = hashed.split("$")
    assert scheme == "7"
    derived = hashlib.pbkdf2_hmac(
        "sha512", password.encode(), base64.b64decode(salt), int(iterations), 64
    )
    return derived == base64.b64decode(digest)


ACCOUNTS = [("T0001", "pw-terminal-one"), ("T0002", "pw-terminal-two"), ("gateway", "gw-secret")]


def test_passwords_are_hashed_by_mosquitto_passwd(tmp_path: Path) -> None:
    files = write_broker_files(tmp_path, ACCOUNTS, "gateway")

    text = files.passwd.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["T0001", "T0002", "gateway"]
    for line, (_, password) in zip(lines, ACCOUNTS, strict=True):
        hashed = line.split(":", 1)[1]
        assert password not in hashed
        assert matches(password, hashed)
        assert not matches(password + "x", hashed)
    assert stat.S_IMODE(files.passwd.stat().st_mode) == 0o600


def test_acl_confines_terminals_to_their_own_topics_and_names_the_gateway(tmp_path: Path) -> None:
    files = write_broker_files(tmp_path, ACCOUNTS, "gw-account")

    acl = files.acl.read_text(encoding="utf-8").splitlines()
    for channel in ("alert", "health", "status"):
        assert f"pattern write ec/v1/t/%u/{channel}" in acl
        assert f"topic read ec/v1/t/+/{channel}" in acl
    for channel in ("ack", "cmd"):
        assert f"pattern read ec/v1/t/%u/{channel}" in acl
        assert f"topic write ec/v1/t/+/{channel}" in acl
    assert "user gw-account" in acl
    # the gateway's rights follow its `user` line; the patterns come before it
    assert acl.index("user gw-account") > max(
        i for i, x in enumerate(acl) if x.startswith("pattern")
    )
    assert not any(line.startswith("topic") and "%u" in line for line in acl)


def test_conf_points_at_the_generated_files(tmp_path: Path) -> None:
    files = write_broker_files(tmp_path, ACCOUNTS, "gateway", host="0.0.0.0", port=18830,
                               persistence=False)  # fmt: skip

    conf = files.conf.read_text(encoding="utf-8").splitlines()
    assert "allow_anonymous false" in conf
    assert f"password_file {files.passwd.resolve()}" in conf
    assert f"acl_file {files.acl.resolve()}" in conf
    assert "listener 18830 0.0.0.0" in conf
    assert "persistence false" in conf
    assert f"persistence_location {(tmp_path / 'state').resolve()}/" in conf
    assert f"user {getpass.getuser()}" in conf
    assert (tmp_path / "state").is_dir()


def test_persistence_is_on_by_default(tmp_path: Path) -> None:
    files = write_broker_files(tmp_path, ACCOUNTS[:1], "gateway")

    assert "persistence true" in files.conf.read_text(encoding="utf-8").splitlines()


@pytest.mark.parametrize(
    "account", [("T:1", "pw"), ("T1\nuser root", "pw"), ("T1", "pw\nT2:x")], ids=repr
)
def test_account_that_could_inject_a_line_is_refused(
    tmp_path: Path, account: tuple[str, str]
) -> None:
    with pytest.raises(GatewayError, match="invalid broker account"):
        write_broker_files(tmp_path, [account], "gateway")


def test_regenerating_replaces_the_old_accounts(tmp_path: Path) -> None:
    write_broker_files(tmp_path, ACCOUNTS, "gateway")

    files = write_broker_files(tmp_path, [("T0009", "new-pw")], "gateway")

    users = [line.split(":", 1)[0] for line in files.passwd.read_text().splitlines()]
    assert users == ["T0009"]
