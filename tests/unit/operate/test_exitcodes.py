"""One table of exit statuses: which error ends the process with which status."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.errors import (
    ConfigError,
    DeliveryError,
    RegistryError,
    StoreError,
    StoreFull,
    StoreReadOnly,
)
from gateway.exitcodes import ACTIONS, ExitCode, exit_code_for, significant

README = Path(__file__).resolve().parents[3] / "README.md"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (StoreFull("x"), ExitCode.DISK_FULL),
        (StoreReadOnly("x"), ExitCode.READ_ONLY),
        (StoreError("x"), ExitCode.STORE),
        (ConfigError("x"), ExitCode.CONFIG),
        (RegistryError("x"), ExitCode.CONFIG),
        (RuntimeError("a defect"), ExitCode.FAILED),
    ],
)
def test_each_error_has_its_status(error: Exception, code: ExitCode) -> None:
    assert exit_code_for(error) is code


def test_inside_task_groups_the_store_error_explains_the_end() -> None:
    inner = ExceptionGroup("link", [DeliveryError("later"), StoreFull("disk full")])
    group = ExceptionGroup("gateway", [RuntimeError("side effect"), inner])

    assert isinstance(significant(group), StoreFull)
    assert exit_code_for(group) is ExitCode.DISK_FULL


def test_statuses_are_distinct_and_each_has_an_action() -> None:
    assert len({int(c) for c in ExitCode}) == len(ExitCode)
    assert set(ACTIONS) == set(ExitCode)


def test_readme_table_matches_the_codes() -> None:
    rows = re.findall(r"^\| `(\d+)` \| `([a-z_]+)` \|", README.read_text(), re.MULTILINE)

    assert [(int(n), name) for n, name in rows] == [(int(c), c.name.lower()) for c in ExitCode]
