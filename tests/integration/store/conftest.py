from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.store.db import Database, open_database
from tests.integration.store.helpers import FakeClock


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A real SQLite file, freshly created."""
    async with open_database(tmp_path / "var" / "gateway.db") as database:
        yield database


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
