"""``elders.csv``: the elders' records a site imports beside its terminal registry.

One row per terminal (UTF-8, a header row, any column order)::

    terminal_id,address,access,medical,language,lives_alone,
    contact1_name,contact1_role,contact1_phone,contact2_name,contact2_role,contact2_phone,…

* ``terminal_id`` — required; must be in ``terminals.csv``.
* ``address`` (≤ 200), ``access`` (key safe, door code; ≤ 200 — shown only on request,
  audited), ``medical`` (≤ 1000), ``language`` (language or dialect, ≤ 64).
* ``lives_alone`` — ``yes``/``no`` (also ``1``/``0``, ``true``/``false``, ``是``/``否``);
  empty is ``no``.
* ``contactN_name``, ``contactN_role``, ``contactN_phone`` for N = 1 … 12: the contacts in
  calling order; a group with every cell empty is skipped. Roles: ``relative``,
  ``neighbour``, ``grid_worker``, ``doctor``, ``volunteer``, ``service_station``,
  ``village_staff`` (or their Chinese names: 亲属, 邻居, 网格员, 村医, 志愿者, 服务站, 村干部).

Importing is all or nothing: the first bad cell stops it with ``file:line: column: why``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable
from pathlib import Path

from gateway.core.elders import MAX_CONTACTS, Contact, ElderRecord, RecordError, check_record

FIELDS = ("terminal_id", "address", "access", "medical", "language", "lives_alone")
ROLE_ALIASES = {
    "亲属": "relative", "家属": "relative", "子女": "relative", "邻居": "neighbour",
    "neighbor": "neighbour", "网格员": "grid_worker", "村医": "doctor", "医生": "doctor",
    "志愿者": "volunteer", "服务站": "service_station", "村干部": "village_staff",
    "社区工作人员": "village_staff",
}  # fmt: skip
YES = frozenset({"yes", "y", "1", "true", "是", "独居"})
NO = frozenset({"", "no", "n", "0", "false", "否"})
_CONTACT_COLUMN = re.compile(r"^contact(\d+)_(name|role|phone)$")


def _flag(value: str, where: str) -> bool:
    text = value.strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise RecordError(f"{where}lives_alone: yes or no, not {value[:20]!r}")


def _role(value: str) -> str:
    text = value.strip()
    return ROLE_ALIASES.get(text, ROLE_ALIASES.get(text.lower(), text.lower()))


def _groups(header: Iterable[str], where: str) -> list[int]:
    numbers = set()
    for name in header:
        found = _CONTACT_COLUMN.match(name)
        if found:
            numbers.add(int(found.group(1)))
    if any(n < 1 or n > MAX_CONTACTS for n in numbers):
        raise RecordError(f"{where}contact columns are numbered 1 to {MAX_CONTACTS}")
    return sorted(numbers)


def _contacts(row: dict[str, str], groups: list[int], where: str) -> tuple[Contact, ...]:
    found = []
    for n in groups:
        cells = [
            (row.get(f"contact{n}_{part}") or "").strip() for part in ("name", "role", "phone")
        ]
        if not any(cells):
            continue
        if not all(cells):
            raise RecordError(f"{where}contact{n}: name, role and phone are all needed")
        found.append(Contact(cells[0], _role(cells[1]), cells[2]))
    return tuple(found)


def _record(
    row: dict[str, str], groups: list[int], known: Collection[str], where: str
) -> ElderRecord:
    terminal_id = (row.get("terminal_id") or "").strip()
    if terminal_id not in known:
        raise RecordError(f"{where}terminal_id: {terminal_id!r} is not in the registry")
    text = {name: (row.get(name) or "").strip() for name in FIELDS[1:5]}
    record = ElderRecord(
        terminal_id, text["address"], text["access"], text["medical"], text["language"],
        _flag(row.get("lives_alone") or "", where), _contacts(row, groups, where),
    )  # fmt: skip
    try:
        check_record(record)
    except RecordError as exc:
        raise RecordError(f"{where}{exc}") from None
    return record


def parse_elders(
    text: str, known: Collection[str], source: str = "elders.csv"
) -> list[ElderRecord]:
    """Every record of the file; :class:`RecordError` naming line and column otherwise."""
    try:
        return _parse(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")), known, source)
    except csv.Error as exc:
        raise RecordError(f"{source}: not a readable CSV file: {exc}") from None


def _parse(reader: csv.DictReader[str], known: Collection[str], source: str) -> list[ElderRecord]:
    header = reader.fieldnames or []
    if "terminal_id" not in header:
        raise RecordError(f"{source}: the header needs a terminal_id column")
    groups = _groups(header, f"{source}: ")
    records: dict[str, ElderRecord] = {}
    for line, row in enumerate(reader, 2):
        where = f"{source}:{line}: "
        if None in row:
            raise RecordError(f"{where}more cells than columns")
        record = _record(row, groups, known, where)
        if record.terminal_id in records:
            raise RecordError(f"{where}terminal_id: {record.terminal_id} appears twice")
        records[record.terminal_id] = record
    return list(records.values())


def read_elders(path: Path, known: Collection[str]) -> list[ElderRecord]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordError(f"{path}: cannot read: {exc}") from exc
    return parse_elders(text, known, str(path))


def format_elders(records: Iterable[ElderRecord]) -> str:
    """The CSV text of ``records`` (as many contact groups as the longest list needs)."""
    rows = list(records)
    groups = max((len(r.contacts) for r in rows), default=0)
    header = [*FIELDS, *(f"contact{n}_{p}" for n in range(1, groups + 1)
                         for p in ("name", "role", "phone"))]  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for r in rows:
        cells = [r.terminal_id, r.address, r.access, r.medical, r.language,
                 "yes" if r.lives_alone else "no"]  # fmt: skip
        for n in range(groups):
            c = r.contacts[n] if n < len(r.contacts) else None
            cells += [c.name, c.role, c.phone] if c else ["", "", ""]
        writer.writerow(cells)
    return out.getvalue()
