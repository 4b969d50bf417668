"""The supervisors' figures as pure counting: percentiles, the 60 s share, areas, periods."""

from __future__ import annotations

import time

import pytest

from gateway.core.reports import (
    AlarmTimes,
    build_report,
    figures_json,
    parse_period,
    percentile,
)

CHANGAN = ("D", "Changan", "Dongcun")
PUYAN = ("D", "Puyan", "Nancun")
KINDS = (["emergency", "medical"], ["meal", "errand", "nursing", "mobility"])


def alarm(area: tuple[str, ...], kind: str, waited: float | None, resolved: float | None = None,
          escalated: bool = False) -> AlarmTimes:  # fmt: skip
    t0 = 1000.0
    return AlarmTimes(area, kind, t0, None if waited is None else t0 + waited,
                      None if resolved is None else t0 + resolved, escalated)  # fmt: skip


def test_nearest_rank_percentiles() -> None:
    values = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.9) == 90.0
    assert percentile([7.0], 0.9) == 7.0
    assert percentile([], 0.5) is None


def test_the_share_accepted_within_60_s_counts_the_unaccepted_as_late() -> None:
    alarms = [alarm(CHANGAN, "emergency", 20), alarm(CHANGAN, "emergency", 60),
              alarm(CHANGAN, "medical", 61), alarm(PUYAN, "emergency", None, escalated=True),
              alarm(PUYAN, "meal", 5)]  # fmt: skip
    report = build_report(("D",), *KINDS, alarms, [PUYAN, PUYAN], [CHANGAN], [], [PUYAN])
    total = figures_json(report.total)
    assert total["emergencies"] == 4
    assert total["accepted_within_60s"] == 2
    assert total["accepted_within_60s_share"] == 0.5
    assert total["escalated"] == 1
    assert total["service_requests"] == 1
    assert total["service_completed"] == 1
    assert total["unanswered_calls"] == 2
    assert total["terminals_offline_now"] == 1
    rows = {row.area: figures_json(row) for row in report.rows}
    assert rows[("D", "Changan")]["accept_p50_s"] == 60.0
    assert rows[("D", "Puyan")]["accepted_within_60s_share"] == 0.0


def test_rows_are_one_level_below_the_scope_and_empty_areas_show() -> None:
    report = build_report(("D", "Changan"), *KINDS, [alarm(CHANGAN, "emergency", 5)], [], [], [],
                          [], areas=[CHANGAN, ("D", "Changan", "Xicun")])  # fmt: skip
    assert [r.area for r in report.rows] == [CHANGAN, ("D", "Changan", "Xicun")]
    assert report.rows[1].within_share is None


def test_a_period_is_whole_local_days() -> None:
    now = time.mktime((2026, 3, 10, 15, 30, 0, 0, 0, -1))
    start, end = parse_period("", "", now)
    assert time.localtime(start)[:4] == (2026, 3, 4, 0)
    assert time.localtime(end)[:4] == (2026, 3, 11, 0)
    start, end = parse_period("2026-03-01", "2026-03-01", now)
    assert end - start == pytest.approx(86_400, abs=3600)


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [("2026-03-05", "2026-03-01", "from: must not be after to"),
     ("yesterday", "", "from: expected YYYY-MM-DD"), ("2024-01-01", "2026-01-01", "366 days")],
)  # fmt: skip
def test_bad_periods_name_the_field(first: str, last: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_period(first, last, time.time())
