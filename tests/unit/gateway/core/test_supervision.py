"""Supervision step: offline, restored, flap damping and missed self-tests, as pure decisions."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.config import SupervisionConfig
from gateway.core.supervision import TerminalRow, decayed, step
from tests.unit.gateway.helpers import T0

CFG = SupervisionConfig(
    reporting_time_s=180, will_grace_s=30, selftest_interval_s=86_400, selftest_grace_s=3600,
    flap_penalty=1.0, flap_suppress_at=3.0, flap_reuse_at=1.0, flap_half_life_s=900,
)  # fmt: skip
DAY = 86_400.0


def fresh(last_seen: float = T0, **changes: object) -> TerminalRow:
    row = TerminalRow(
        terminal_id="T0001", last_seen=last_seen, online=True, reported_offline=False,
        will_at=None, offline_at=None, flap_penalty=0.0, flap_at=0.0, muted=False,
        last_selftest_at=None, selftest_missed=False,
    )  # fmt: skip
    return replace(row, **changes)  # type: ignore[arg-type]


def heard(row: TerminalRow, at: float) -> TerminalRow:
    """What intake records for any message: newer last_seen, will cleared."""
    return replace(row, last_seen=max(row.last_seen, at), will_at=None)


def will(row: TerminalRow, at: float) -> TerminalRow:
    """What intake records for a last will (an ``offline`` status)."""
    return replace(row, last_seen=max(row.last_seen, at), will_at=at)


# --- offline and restored ---------------------------------------------------------------------


def test_silence_up_to_the_reporting_time_keeps_a_terminal_online() -> None:
    row, events = step(fresh(), T0 + CFG.reporting_time_s, CFG)

    assert events == []
    assert row.online


def test_silence_past_the_reporting_time_is_offline() -> None:
    now = T0 + CFG.reporting_time_s + 0.001

    row, events = step(fresh(), now, CFG)

    assert events == ["terminal.offline"]
    assert (row.online, row.reported_offline, row.offline_at) == (False, True, now)


def test_offline_is_reported_once() -> None:
    row, _ = step(fresh(), T0 + 200, CFG)

    for later in (T0 + 205, T0 + 400, T0 + DAY):
        row, events = step(row, later, CFG)
        assert events == []


def test_last_will_is_offline_only_after_the_grace() -> None:
    row = will(fresh(), T0 + 10)

    row, early = step(row, T0 + 10 + CFG.will_grace_s - 0.001, CFG)
    row, due = step(row, T0 + 10 + CFG.will_grace_s, CFG)

    assert early == []
    assert due == ["terminal.offline"]
    assert not row.online


def test_message_within_the_will_grace_cancels_the_will() -> None:
    row = heard(will(fresh(), T0 + 10), T0 + 20)

    row, events = step(row, T0 + 10 + CFG.will_grace_s + 1, CFG)

    assert events == []
    assert row.online


def test_next_message_restores_an_offline_terminal() -> None:
    row, _ = step(fresh(), T0 + 200, CFG)

    row, events = step(heard(row, T0 + 250), T0 + 255, CFG)

    assert events == ["terminal.restored"]
    assert (row.online, row.reported_offline) == (True, False)


def test_terminal_offline_by_will_stays_offline_until_a_new_message() -> None:
    row, _ = step(will(fresh(), T0), T0 + 60, CFG)

    row, still = step(row, T0 + 65, CFG)
    row, back = step(heard(row, T0 + 70), T0 + 75, CFG)

    assert still == []
    assert back == ["terminal.restored"]


def test_a_second_will_while_offline_does_not_restore() -> None:
    row, _ = step(will(fresh(), T0), T0 + 60, CFG)

    row, events = step(will(row, T0 + 70), T0 + 75, CFG)

    assert events == []
    assert not row.online


# --- flap damping ----------------------------------------------------------------------------


def flap(row: TerminalRow, start: float, cycles: int, period: float = 200.0) -> list[str]:
    """Drive ``cycles`` offline/online cycles by last will; return every event raised."""
    raised: list[str] = []
    now = start
    for _ in range(cycles):
        row, events = step(will(row, now), now + CFG.will_grace_s, CFG)
        raised += events
        now += period / 2
        row, events = step(heard(row, now), now + 1, CFG)
        raised += events
        now += period / 2
    return raised


def test_a_flapping_terminal_yields_one_flapping_event_not_a_storm() -> None:
    events = flap(fresh(), T0, cycles=30)

    assert events.count("terminal.flapping") == 1
    # Before muting, each offline and restore is reported; after, nothing more.
    first = events.index("terminal.flapping")
    assert events[:first] == ["terminal.offline", "terminal.restored"] * (first // 2)
    assert events[first + 1 :] == []


def test_penalty_decays_and_the_terminal_is_unmuted() -> None:
    row = fresh(flap_penalty=3.5, flap_at=T0, muted=True)

    quiet_at = T0 + math.log2(3.5 / CFG.flap_reuse_at) * CFG.flap_half_life_s + 1
    row, still = step(heard(row, T0 + 100), T0 + 100, CFG)
    row, events = step(heard(row, quiet_at), quiet_at, CFG)

    assert still == []
    assert events == []
    assert not row.muted
    assert row.flap_penalty < CFG.flap_reuse_at


def test_unmuting_an_offline_terminal_reports_it_offline() -> None:
    row = fresh(online=False, offline_at=T0, flap_penalty=3.2, flap_at=T0, muted=True)

    row, events = step(row, T0 + 2 * 900 + 1, CFG)

    assert events == ["terminal.offline"]
    assert (row.muted, row.reported_offline) == (False, True)


def test_muted_terminal_is_neither_reported_offline_nor_restored() -> None:
    row = fresh(flap_penalty=3.0, flap_at=T0, muted=True)

    row, offline = step(will(row, T0), T0 + CFG.will_grace_s, CFG)
    row, restored = step(heard(row, T0 + 40), T0 + 41, CFG)

    assert offline == []
    assert restored == []
    assert row.online
    assert row.muted


def test_decayed_halves_every_half_life() -> None:
    assert decayed(4.0, 900, 900) == 2.0
    assert decayed(4.0, 1800, 900) == 1.0
    assert decayed(4.0, -50, 900) == 4.0  # clock skew never grows the penalty


# --- self-tests ------------------------------------------------------------------------------


def test_overdue_self_test_is_reported_once() -> None:
    due = CFG.selftest_interval_s + CFG.selftest_grace_s
    row = fresh(last_seen=T0 + due, last_selftest_at=T0)

    row, on_time = step(row, T0 + due, CFG)
    row, missed = step(heard(row, T0 + due + 1), T0 + due + 1, CFG)
    row, again = step(heard(row, T0 + due + 60), T0 + due + 60, CFG)

    assert on_time == []
    assert missed == ["terminal.selftest_missed"]
    assert again == []
    assert row.selftest_missed


def test_terminal_without_any_self_test_is_never_reported_missing_one() -> None:
    _, events = step(fresh(last_seen=T0 + 10 * DAY), T0 + 10 * DAY, CFG)

    assert events == []


# --- invariants over random histories ---------------------------------------------------------


@dataclass(frozen=True)
class Act:
    kind: str  # "message" | "will" | "selftest" | "sweep"
    after: float


acts = st.lists(
    st.builds(
        Act,
        st.sampled_from(["message", "will", "selftest", "sweep", "sweep"]),
        st.floats(min_value=0, max_value=3000, allow_nan=False),
    ),
    max_size=60,
)


def run_history(history: list[Act], cfg: SupervisionConfig) -> list[tuple[TerminalRow, list[str]]]:
    row, now, steps = fresh(), T0, []
    for act in history:
        now += act.after
        if act.kind == "message":
            row = heard(row, now)
        elif act.kind == "will":
            row = will(row, now)
        elif act.kind == "selftest":
            row = replace(heard(row, now), last_selftest_at=now, selftest_missed=False)
        else:
            row, events = step(row, now, cfg)
            steps.append((row, events))
    return steps


HISTORY = settings(max_examples=300, deadline=None)


@HISTORY
@given(acts)
def test_offline_and_restored_alternate_starting_with_offline(history: list[Act]) -> None:
    told = [
        e
        for _, events in run_history(history, CFG)
        for e in events
        if e in ("terminal.offline", "terminal.restored")
    ]

    assert told[0::2] == ["terminal.offline"] * len(told[0::2])
    assert told[1::2] == ["terminal.restored"] * len(told[1::2])


@HISTORY
@given(acts)
def test_unmuted_terminal_is_reported_as_it_is(history: list[Act]) -> None:
    for row, _ in run_history(history, CFG):
        assert row.muted or row.reported_offline == (not row.online)


@HISTORY
@given(acts)
def test_flapping_is_raised_at_most_once_per_muted_period(history: list[Act]) -> None:
    muted = False
    for row, events in run_history(history, CFG):
        if "terminal.flapping" in events:
            assert not muted, "a second flapping event while still muted"
        muted = row.muted


@HISTORY
@given(acts)
def test_one_step_raises_at_most_one_availability_event(history: list[Act]) -> None:
    availability = {"terminal.offline", "terminal.restored", "terminal.flapping"}
    for row, events in run_history(history, CFG):
        assert sum(e in availability for e in events) <= 1
        assert events.count("terminal.selftest_missed") <= 1
        assert row.flap_penalty >= 0
        assert math.isfinite(row.flap_penalty)
