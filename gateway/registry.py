"""The terminal registry: which terminals exist, whose they are and where.

A site keeps it as a CSV (``terminal_id,elder_name,district,town,village``, optional
``phone`` and ``zone``) from its own records, checked and completed by
``python -m gateway provision``. The region path district → town → community/village
rides along on every event. ``zone`` names the town broker a terminal is on in a
bridged district (empty on a single-broker site).

A :class:`Registry` never changes. The running gateway reads it through one
:class:`RegistryHolder`, which a reload replaces whole (one assignment on the event
loop), so every reader sees either the old registry or the new one, never a mix.
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


class RegistryHolder(Mapping[str, Terminal]):
    """The registry in force. Readers use it like the registry; :meth:`swap` replaces it."""

    def __init__(self, registry: Registry) -> None:
        self._current = registry

    @property
    def current(self) -> Registry:
        """The registry in force now (hold on to it for a consistent view)."""
        return self._current

    def swap(self, registry: Registry) -> Registry:
        """Put ``registry`` in force; return the one it replaces."""
        old, self._current = self._current, registry
        return old

    def __getitem__(self, terminal_id: str) -> Terminal:
        return self._current[terminal_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current)

    def __len__(self) -> int:
        return len(self._current)

    def regions(self) -> set[tuple[str, ...]]:
        return self._current.regions()

    def region_of(self, terminal_id: str) -> tuple[str, ...]:
        """A terminal's region path (none for one no longer registered)."""
        terminal = self._current.get(terminal_id)
        return () if terminal is None else terminal.region


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
    """Load and check the CSV. Every problem is a :class:`RegistryError` naming the file
    and, where there is one, the line (``terminals.csv:7: duplicate terminal_id …``).

    With ``site_district`` (``[site] district``) every row must name that district or
    leave it empty (then it is filled in)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return Registry(_read(csv.DictReader(handle), path, site_district))
    except OSError as exc:
        raise RegistryError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}:{_undecodable_line(path)}: not UTF-8 text") from exc


def _undecodable_line(path: Path) -> int:
    """The first line that is not UTF-8 (text is decoded in chunks, not by line)."""
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return number
    return 1


def _read(reader: csv.DictReader[str], path: Path, site_district: str | None) -> list[Terminal]:
    try:
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise RegistryError(f"{path}:1: missing columns {', '.join(missing)}")
        first_seen: dict[str, int] = {}
        terminals = []
        for row in reader:
            line = reader.line_num
            if None in row:
                raise RegistryError(f"{path}:{line}: more fields than the header has")
            terminal = _row_to_terminal(row, line, path, site_district)
            if terminal.terminal_id in first_seen:
                raise RegistryError(
                    f"{path}:{line}: duplicate terminal_id {terminal.terminal_id}"
                    f" (first on line {first_seen[terminal.terminal_id]})"
                )
            first_seen[terminal.terminal_id] = line
            terminals.append(terminal)
    except csv.Error as exc:
        raise RegistryError(f"{path}:{reader.line_num}: not valid CSV: {exc}") from exc
    return terminals
