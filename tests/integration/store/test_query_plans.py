"""The intake and delivery hot paths look rows up by key: none scans a table that grows
with the district (alerts, events, outbox). SQLite's own plans, on a real file."""

from __future__ import annotations

import pytest

from gateway.store.alerts import move_query
from gateway.store.db import Database
from gateway.store.intake import stages_query
from tests.integration.store.helpers import query_plan

pytestmark = pytest.mark.integration

QUERIES = {
    "current stages of a batch's alarms": (stages_query(3), 6),
    "moving a batch of alarms to a stage": (move_query(3), 14),
}


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_a_batch_of_alarms_is_found_by_key(db: Database, name: str) -> None:
    query, params = QUERIES[name]
    plan = await query_plan(db, query, *([1] * params))

    assert "SEARCH alerts USING PRIMARY KEY (terminal_id=? AND alert_id=?)" in plan, plan
    assert [step for step in plan if "alerts" in step and not step.startswith("SEARCH")] == []
