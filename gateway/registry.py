"""The terminal registry: which terminals exist, whose they are and where.

A site keeps it as a CSV (``terminal_id,elder_name,district,town,village``, optional
``phone`` and ``zone``) from its own records, checked and completed by
``python -m gateway provision``. The region path district → town → community/village
rides along on every event. ``zone`` names the town broker a terminal is on in a
bridged district (empty on a single-broker site).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from firmware_protocol.topics import TERMINAL_ID_RE
from gateway.errors import RegistryError
from gateway.topology import ZONE_RE

COLUMNS = ("terminal_id", "elder_name", "district", "town", "village")


@dataclass(frozen=True, slots=True)
class Terminal:
    """A registered terminal and the elder it serves."""

    terminal_id: str
    elder_name: str
    region: tuple[str, str, str]
    phone: str = ""
    zone: str | None = None


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


def _row_to_terminal(
    row: dict[str, str], line: int, path: Path, site_district: str | None
) -> Terminal:
    terminal_id = (row.get("terminal_id") or "").strip()
    if not TERMINAL_ID_RE.match(terminal_id):
        raise RegistryError(f"{path}:{line}: invalid terminal_id {terminal_id!r}")
    parts = [(row.get(col) or "").strip() for col in COLUMNS[1:]]
    if site_district is not None:
        if parts[1] not in ("", site_district):
            raise RegistryError(
                f"{path}:{line}: district {parts[1]!r} is not this site's "
                f"(site.district = {site_district!r})"
            )
        parts[1] = site_district
    if not all(parts):
        raise RegistryError(f"{path}:{line}: elder_name, district, town, village are required")
    name, district, town, village = parts
    zone = (row.get("zone") or "").strip() or None
    if zone is not None and not ZONE_RE.match(zone):
        raise RegistryError(f"{path}:{line}: invalid zone {zone!r} (1-32 of A-Z a-z 0-9 _ -)")
    phone = (row.get("phone") or "").strip()
    return Terminal(terminal_id, name, (district, town, village), phone, zone)


def load_registry(path: Path, site_district: str | None = None) -> Registry:
    """Load and check the CSV; a duplicate id or a missing column is an error.

    With ``site_district`` (``[site] district``) every row must name that district or
    leave it empty (then it is filled in)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise RegistryError(f"{path}: missing columns {', '.join(missing)}")
            terminals = [
                _row_to_terminal(row, n, path, site_district) for n, row in enumerate(reader, 2)
            ]
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read: {exc.strerror}") from exc
    registry = Registry(terminals)
    if len(registry) != len(terminals):
        raise RegistryError(f"{path}: duplicate terminal_id")
    return registry
