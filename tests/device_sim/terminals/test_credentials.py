from __future__ import annotations

from pathlib import Path

import pytest

from device_sim.terminals.credentials import (
    Credential,
    CredentialsError,
    load_credentials,
    shard,
    write_credentials,
)
from device_sim.terminals.options import Endpoint, parse_broker_url


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.csv"
    path.write_text(text)
    return path


def test_loads_rows_and_honours_count(tmp_path: Path) -> None:
    path = write(tmp_path, "terminal_id,password\nt1,a\n\nt2,b\nt3,c\n")
    expected = [Credential("t1", "a"), Credential("t2", "b"), Credential("t3", "c")]
    assert load_credentials(path) == expected
    assert [c.terminal_id for c in load_credentials(path, 2)] == ["t1", "t2"]


def test_reads_the_broker_column_of_a_provisioned_sheet(tmp_path: Path) -> None:
    path = write(tmp_path, "terminal_id,password,broker\nt1,a,mqtts://h:8883\n")
    assert load_credentials(path) == [Credential("t1", "a", Endpoint("h", 8883, tls=True))]


def test_password_stays_out_of_repr() -> None:
    assert "secret" not in repr(Credential("t1", "secret"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,pw\nt1,a\n", "header"),
        ("terminal_id,password\n", "no credentials"),
        ("terminal_id,password\nt1,a\nt1,b\n", ":3: duplicate"),
        ("terminal_id,password\nbad/id,a\n", ":2: invalid terminal_id"),
        ("terminal_id,password\nt1\n", ":2: expected 2 fields"),
        ("terminal_id,password\nt1,\n", "empty password"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CredentialsError, match=message):
        load_credentials(write(tmp_path, text))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="cannot read"):
        load_credentials(tmp_path / "nope.csv")


def test_shards_cover_everything_once() -> None:
    creds = [Credential(f"t{i}", "p") for i in range(10)]
    parts = [shard(creds, i, 3) for i in range(3)]
    assert [len(p) for p in parts] == [3, 3, 4]
    assert [c for p in parts for c in p] == creds
    with pytest.raises(ValueError, match="shard index"):
        shard(creds, 3, 3)


def test_third_column_names_each_terminal_s_broker(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "terminal_id,password,broker\n"
        "t1,a,mqtt://127.0.0.1:1884\nt2,b,mqtts://town-3.example:8883\nt3,c,\n",
    )
    [t1, t2, t3] = load_credentials(path)
    assert t1.broker == Endpoint("127.0.0.1", 1884, tls=False)
    assert t2.broker == Endpoint("town-3.example", 8883, tls=True)
    assert t3.broker is None  # empty cell: the command line's broker


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("tcp://h:1", "use mqtt://HOST:PORT"),
        ("mqtt://:1883", "use mqtt://HOST:PORT"),
        ("mqtt://h:99999", "out of range"),
        ("mqtt://h:1883/town", "only scheme, host and port"),
        ("mqtt://u:p@h:1883", "only scheme, host and port"),
    ],
)
def test_bad_broker_url_names_line_and_column(tmp_path: Path, url: str, message: str) -> None:
    path = write(tmp_path, f"terminal_id,password,broker\nt1,a,mqtt://h:1\nt2,b,{url}\n")
    with pytest.raises(CredentialsError, match=rf"c\.csv:3: broker: .*{message}"):
        load_credentials(path)


def test_broker_url_default_ports() -> None:
    assert parse_broker_url("mqtt://h") == Endpoint("h", 1883)
    assert parse_broker_url("mqtts://h") == Endpoint("h", 8883, tls=True)
    assert parse_broker_url("mqtts://h:8884").url == "mqtts://h:8884"


def test_row_width_must_match_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, "terminal_id,password,broker\nt1,a\n")
    with pytest.raises(CredentialsError, match="expected 3 fields"):
        load_credentials(path)


def test_written_sheet_reads_back(tmp_path: Path) -> None:
    both = [Credential("t1", "a,b", parse_broker_url("mqtt://h:1")), Credential("t2", "c")]
    write_credentials(tmp_path / "with.csv", both)
    assert load_credentials(tmp_path / "with.csv") == both
    assert (tmp_path / "with.csv").stat().st_mode & 0o777 == 0o600
    plain = [Credential("t1", "a")]
    write_credentials(tmp_path / "plain.csv", plain)
    assert (tmp_path / "plain.csv").read_text().splitlines()[0] == "terminal_id,password"
    assert load_credentials(tmp_path / "plain.csv") == plain
