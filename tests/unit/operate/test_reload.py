"""Reloading the registry: a good file is put in force whole, a bad one changes nothing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gateway.operate.reload import RegistryChange, RegistryReloader, compare
from gateway.registry import Registry, RegistryHolder, Terminal, load_registry
from tests.unit.gateway.helpers import sample

HEADER = "terminal_id,elder_name,district,town,village,phone\n"
ROWS = "T1,王秀英,D,T,V1,\nT2,李桂兰,D,T,V1,\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_compare_counts_added_removed_moved_and_edited() -> None:
    old = Registry([Terminal("T1", "A", ("D", "T", "V1")), Terminal("T2", "B", ("D", "T", "V1")),
                    Terminal("T3", "C", ("D", "T", "V1"))])  # fmt: skip
    new = Registry([Terminal("T1", "A", ("D", "T", "V2")), Terminal("T2", "B2", ("D", "T", "V1")),
                    Terminal("T4", "D", ("D", "T", "V1"))])  # fmt: skip

    assert compare(old, new) == RegistryChange(added=1, removed=1, moved=1, edited=1)


async def test_a_good_file_is_put_in_force_for_every_reader(tmp_path: Path) -> None:
    path = write(tmp_path / "terminals.csv", HEADER + ROWS)
    holder = RegistryHolder(load_registry(path))
    reloader = RegistryReloader(holder, path)
    applied = sample("gateway_registry_reloads_total", outcome="applied")
    write(path, HEADER + "T1,王秀英,D,T,V2,\nT3,张建国,D,T,V1,\n")

    result = await reloader.reload()

    assert result.to_json() == {"applied": True, "terminals": 2, "added": 1, "removed": 1,
                                "moved": 1, "edited": 0}  # fmt: skip
    assert sorted(holder) == ["T1", "T3"]
    assert holder["T1"].region == ("D", "T", "V2")
    assert sample("gateway_registry_reloads_total", outcome="applied") == applied + 1
    assert sample("gateway_registry_terminals") == 2


async def test_a_bad_file_is_rejected_naming_the_line_and_the_old_one_stays(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path / "terminals.csv", HEADER + ROWS)
    holder = RegistryHolder(load_registry(path))
    before = holder.current
    reloader = RegistryReloader(holder, path)
    rejected = sample("gateway_registry_reloads_total", outcome="rejected")
    write(path, HEADER + ROWS + "T 3,张建国,D,T,V1,\n")

    with caplog.at_level(logging.ERROR, logger="gateway.operate.reload"):
        result = await reloader.reload()

    assert (result.applied, result.terminals) == (False, 2)
    assert "terminals.csv:4: invalid terminal_id" in result.error
    assert holder.current is before
    assert sample("gateway_registry_reloads_total", outcome="rejected") == rejected + 1
    [line] = [r.getMessage() for r in caplog.records]
    assert "terminals.csv:4" in line
    assert "the 2 terminals in force stay" in line


async def test_a_vanished_file_is_rejected_too(tmp_path: Path) -> None:
    path = write(tmp_path / "terminals.csv", HEADER + ROWS)
    holder = RegistryHolder(load_registry(path))
    path.unlink()

    result = await RegistryReloader(holder, path).reload()

    assert not result.applied
    assert "cannot read" in result.error
    assert len(holder) == 2


async def test_the_swap_hook_runs_once_the_new_registry_is_in_force_and_not_on_rejection(
    tmp_path: Path,
) -> None:
    path = write(tmp_path / "terminals.csv", HEADER + ROWS)
    holder = RegistryHolder(load_registry(path))
    seen: list[list[str]] = []
    reloader = RegistryReloader(holder, path, on_swapped=lambda: seen.append(sorted(holder)))

    write(path, HEADER + "T1,王秀英,D,T,V1,\nT3,张建国,D,T,V1,\n")
    await reloader.reload()
    write(path, HEADER + "T 3,张建国,D,T,V1,\n")
    await reloader.reload()

    assert seen == [["T1", "T3"]]  # called after the swap, once; not for the bad file
