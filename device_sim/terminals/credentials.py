"""Terminal credentials as a site's provisioning writes them: CSV ``terminal_id,password``,
optionally a third column ``broker`` (the URL of the terminal's broker, kept as read)."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from firmware_protocol.topics import TERMINAL_ID_RE

HEADER = ("terminal_id", "password")
WITH_BROKER = (*HEADER, "broker")


class CredentialsError(ValueError):
    """The credentials file cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Credential:
    """One terminal's MQTT login (username and client id are the terminal id)."""

    terminal_id: str
    password: str = field(repr=False)
    broker: str = ""


def load_credentials(path: Path, count: int | None = None) -> list[Credential]:
    """The first ``count`` credentials of ``path`` (all when ``None``)."""
    if count is not None and count < 1:
        raise CredentialsError(f"count must be >= 1, got {count}")
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return _parse(csv.reader(handle), path, count)
    except OSError as exc:
        raise CredentialsError(f"{path}: cannot read: {exc.strerror}") from exc


def _parse(rows: Iterator[list[str]], path: Path, count: int | None) -> list[Credential]:
    header = next(rows, None)
    names = tuple(h.strip() for h in header or ())
    if names not in (HEADER, WITH_BROKER):
        raise CredentialsError(
            f"{path}:1: header must be {','.join(HEADER)}[,broker], got {header!r}"
        )
    credentials: list[Credential] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if count is not None and len(credentials) >= count:
            break
        if not row or not "".join(row).strip():
            continue
        credentials.append(_credential(row, len(names), f"{path}:{line}", seen))
    if not credentials:
        raise CredentialsError(f"{path}: no credentials")
    return credentials


def _credential(row: Sequence[str], fields: int, where: str, seen: set[str]) -> Credential:
    if len(row) != fields:
        raise CredentialsError(f"{where}: expected {fields} fields, got {len(row)}")
    terminal_id, password = row[0].strip(), row[1]
    if not TERMINAL_ID_RE.match(terminal_id):
        raise CredentialsError(f"{where}: invalid terminal_id {terminal_id!r}")
    if terminal_id in seen:
        raise CredentialsError(f"{where}: duplicate terminal_id {terminal_id!r}")
    if not password:
        raise CredentialsError(f"{where}: empty password for {terminal_id!r}")
    seen.add(terminal_id)
    return Credential(terminal_id, password, row[2].strip() if fields == 3 else "")


def shard(credentials: Sequence[Credential], index: int, shards: int) -> list[Credential]:
    """Slice ``index`` of ``shards`` near-equal contiguous slices."""
    if not 0 <= index < shards:
        raise ValueError(f"shard index {index} not in [0, {shards})")
    total = len(credentials)
    return list(credentials[total * index // shards : total * (index + 1) // shards])
