"""The terminal registry: which terminals exist, whose they are and where.

A site keeps it as a CSV (``terminal_id,elder_name,district,town,village``, optional
``phone``) produced by ``python -m gateway provision`` or by its own records. The
region path district → town → community/village rides along on every event.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from firmware_protocol.topics import TERMINAL_ID_RE
from gateway.errors import RegistryError

COLUMNS = ("terminal_id", "elder_name", "district", "town", "village")


@dataclass(frozen=True, slots=True)
class Terminal:
    """A registered terminal and the elder it serves."""

    terminal_id: str
    elder_name: str
    region: tuple[str, str, str]
    phone: str = ""


class Registry(Mapping[str, Terminal]):
    """Read-only lookup by terminal id."""

    def __init__(self, terminals: Iterable[Terminal]) -> None:
        self._by_id = {t.terminal_id: t for t in terminals}

    def __getitem__(self, terminal_id: str) -> Terminal:
        return self._by_id[terminal_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def regions(self) -> set[tuple[str, ...]]:
        """Every region path prefix that has at least one terminal."""
        found: set[tuple[str, ...]] = set()
        for terminal in self._by_id.values():
            for depth in range(1, 4):
                found.add(terminal.region[:depth])
        return found


def _row_to_terminal(row: dict[str, str], line: int, path: Path) -> Terminal:
    terminal_id = (row.get("terminal_id") or "").strip()
    if not TERMINAL_ID_RE.match(terminal_id):
        raise RegistryError(f"{path}:{line}: invalid terminal_id {terminal_id!r}")
    parts = [(row.get(col) or "").strip() for col in COLUMNS[1:]]
    if not all(parts):
        raise RegistryError(f"{path}:{line}: elder_name, district, town, village are required")
    name, district, town, village = parts
    return Terminal(terminal_id, name, (district, town, village), (row.get("phone") or "").strip())


def load_registry(path: Path) -> Registry:
    """Load and check the CSV; a duplicate id or a missing column is an error."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise RegistryError(f"{path}: missing columns {', '.join(missing)}")
            terminals = [_row_to_terminal(row, n, path) for n, row in enumerate(reader, 2)]
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read: {exc.strerror}") from exc
    registry = Registry(terminals)
    if len(registry) != len(terminals):
        raise RegistryError(f"{path}: duplicate terminal_id")
    return registry
