from __future__ import annotations

import gc

import pytest

from device_sim.terminals.tracker import (
    VITALS,
    AckOutcome,
    AlertBook,
    AlertRecord,
    HealthReport,
    apply_ack,
)
from firmware_protocol.messages import Stage


def record(alert_id: str = "b1-0001", kind: str = "emergency", terminal: str = "t1") -> AlertRecord:
    return AlertRecord(terminal, alert_id, kind, pressed_at=100.0)


def test_stages_in_order_advance_and_time_each_stage() -> None:
    r = record()
    for at, stage in enumerate(Stage, start=101):
        assert apply_ack(r, stage, float(at)) is AckOutcome.ADVANCED
    assert r.highest is Stage.RESOLVED
    assert [r.latency(s) for s in Stage] == [1.0, 2.0, 3.0, 4.0]


def test_a_higher_stage_first_implies_the_lower_ones() -> None:
    r = record()
    assert apply_ack(r, Stage.ACCEPTED, 103.0) is AckOutcome.ADVANCED
    assert r.received
    assert r.reached == {Stage.RECEIVED: 103.0, Stage.DELIVERED: 103.0, Stage.ACCEPTED: 103.0}
    assert r.latency(Stage.RESOLVED) is None


def test_lower_stage_after_a_higher_one_is_late_and_ignored() -> None:
    r = record()
    apply_ack(r, Stage.ACCEPTED, 103.0)
    assert apply_ack(r, Stage.DELIVERED, 104.0) is AckOutcome.LATE
    assert r.highest is Stage.ACCEPTED
    assert r.reached[Stage.DELIVERED] == 103.0
    assert apply_ack(r, Stage.DELIVERED, 105.0) is AckOutcome.REPEATED


def test_the_same_stage_again_is_a_repeat() -> None:
    r = record()
    apply_ack(r, Stage.RECEIVED, 101.0)
    assert apply_ack(r, Stage.RECEIVED, 102.0) is AckOutcome.REPEATED
    assert r.reached == {Stage.RECEIVED: 101.0}


def test_book_tracks_pending_and_counts_stages() -> None:
    book = AlertBook()
    book.add(record("a"))
    book.add(record("b", kind="test"))
    assert book.unreceived == 2
    assert [r.alert_id for r in book.pending("t1")] == ["a", "b"]
    assert book.on_ack("t1", "a", Stage.DELIVERED, 101.0) is AckOutcome.ADVANCED
    assert book.unreceived == 1
    assert [r.alert_id for r in book.pending("t1")] == ["b"]
    assert (book.pressed, book.help) == (2, 1)
    assert book.reached == {Stage.RECEIVED: 1, Stage.DELIVERED: 1}
    assert book.help_reached[Stage.DELIVERED] == 1
    assert book.on_ack("t1", "zzz", Stage.RECEIVED, 1.0) is AckOutcome.UNKNOWN
    assert book.on_ack("t2", "a", Stage.RECEIVED, 1.0) is AckOutcome.UNKNOWN


def test_alert_ids_are_unique_per_terminal() -> None:
    book = AlertBook()
    book.add(record("a"))
    book.add(record("a", terminal="t2"))
    with pytest.raises(ValueError, match="exists"):
        book.add(record("a"))


def test_last_help_skips_cancel_and_test() -> None:
    book = AlertBook()
    assert book.last_help("t1") is None
    book.add(record("a", kind="meal"))
    book.add(record("b", kind="cancel"))
    book.add(record("c", kind="test"))
    last = book.last_help("t1")
    assert last is not None
    assert last.alert_id == "a"


def test_ack_of_a_vitals_alert_creates_its_record() -> None:
    book = AlertBook()
    book.add_report("t1", "h1-0001", HealthReport(sent_at=50.0, dangerous=True))
    assert book.on_ack("t1", "v-h1-0001", Stage.RECEIVED, 52.0) is AckOutcome.ADVANCED
    vitals = book.get("t1", "v-h1-0001")
    assert vitals is not None
    assert vitals.kind == VITALS
    assert vitals.latency(Stage.RECEIVED) == 2.0
    assert book.pressed == 0
    assert book.unreceived == 0
    assert book.on_ack("t1", "v-unknown", Stage.RECEIVED, 52.0) is AckOutcome.UNKNOWN


def test_health_reports_kept_for_matching_leave_the_collector_nothing_to_walk() -> None:
    """Every health report stays in the book for the run (~57 a second per process of a
    district run): they must not pile up in the collector's oldest generation."""
    book = AlertBook()
    gc.collect()
    before = len(gc.get_objects())
    for i in range(1000):
        book.add_report("t1", f"h1-{i:04d}", HealthReport(sent_at=float(i), dangerous=False))
    gc.collect()
    assert len(gc.get_objects()) - before < 50
    assert sum(1 for _ in book.reports()) == 1000
