"""Terminal credentials as a site's provisioning writes them.

CSV with header ``terminal_id,password`` or ``terminal_id,password,broker``; ``broker``
is the URL of the broker the terminal connects to (``mqtt://HOST:PORT`` or
``mqtts://HOST:PORT``: in a district each town has its own). Without the column, or
with an empty cell, the command line's broker applies.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from device_sim.terminals.options import Endpoint, parse_broker_url
from firmware_protocol.topics import TERMINAL_ID_RE

HEADER = ("terminal_id", "password")
HEADER_WITH_BROKER = ("terminal_id", "password", "broker")


class CredentialsError(ValueError):
    """The credentials file cannot be used; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Credential:
    """One terminal's MQTT login (username and client id are the terminal id)."""

    terminal_id: str
    password: str = field(repr=False)
    broker: Endpoint | None = None  # None: the command line's broker


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
    columns = None if header is None else tuple(h.strip() for h in header)
    if columns not in (HEADER, HEADER_WITH_BROKER):
        raise CredentialsError(
            f"{path}:1: header must be {','.join(HEADER)} or {','.join(HEADER_WITH_BROKER)}, "
            f"got {header!r}"
        )
    assert columns is not None
    width = len(columns)
    credentials: list[Credential] = []
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if count is not None and len(credentials) >= count:
            break
        if not row or not "".join(row).strip():
            continue
        credentials.append(_credential(row, width, f"{path}:{line}", seen))
    if not credentials:
        raise CredentialsError(f"{path}: no credentials")
    return credentials


def _credential(row: Sequence[str], width: int, where: str, seen: set[str]) -> Credential:
    if len(row) != width:
        raise CredentialsError(f"{where}: expected {width} fields, got {len(row)}")
    terminal_id, password = row[0].strip(), row[1]
    if not TERMINAL_ID_RE.match(terminal_id):
        raise CredentialsError(f"{where}: invalid terminal_id {terminal_id!r}")
    if terminal_id in seen:
        raise CredentialsError(f"{where}: duplicate terminal_id {terminal_id!r}")
    if not password:
        raise CredentialsError(f"{where}: empty password for {terminal_id!r}")
    seen.add(terminal_id)
    return Credential(terminal_id, password, _broker(row[2], where) if width == 3 else None)


def _broker(cell: str, where: str) -> Endpoint | None:
    if not cell.strip():
        return None
    try:
        return parse_broker_url(cell)
    except ValueError as exc:
        raise CredentialsError(f"{where}: broker: {exc}") from None


def write_credentials(path: Path, credentials: Sequence[Credential]) -> None:
    """Write a credentials sheet (mode 0600; with the broker column when any has one)."""
    with_broker = any(c.broker is not None for c in credentials)
    header = HEADER_WITH_BROKER if with_broker else HEADER
    path.touch(mode=0o600)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for c in credentials:
            row = [c.terminal_id, c.password]
            if with_broker:
                row.append(c.broker.url if c.broker is not None else "")
            writer.writerow(row)


def shard(credentials: Sequence[Credential], index: int, shards: int) -> list[Credential]:
    """Slice ``index`` of ``shards`` near-equal contiguous slices."""
    if not 0 <= index < shards:
        raise ValueError(f"shard index {index} not in [0, {shards})")
    total = len(credentials)
    return list(credentials[total * index // shards : total * (index + 1) // shards])
