from __future__ import annotations

from pathlib import Path

import pytest

from device_sim.terminals.credentials import (
    Credential,
    CredentialsError,
    load_credentials,
    shard,
)


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
    assert load_credentials(path) == [Credential("t1", "a", "mqtts://h:8883")]


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
