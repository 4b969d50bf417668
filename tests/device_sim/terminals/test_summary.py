from __future__ import annotations

import json

import pytest

from device_sim.terminals.summary import Counters, Summary, merge, summarize
from device_sim.terminals.tracker import AlertBook, AlertRecord, HealthReport
from firmware_protocol.messages import Stage


def book_with_alerts() -> AlertBook:
    book = AlertBook()
    book.add(AlertRecord("t1", "a", "meal", 10.0))
    book.add(AlertRecord("t1", "b", "emergency", 10.0))
    book.add(AlertRecord("t2", "c", "test", 10.0))
    book.on_ack("t1", "a", Stage.RECEIVED, 10.5)
    book.on_ack("t1", "a", Stage.ACCEPTED, 12.0)
    book.on_ack("t2", "c", Stage.RECEIVED, 11.0)
    book.add_report("t1", "h1", HealthReport(5.0, dangerous=True))
    book.add_report("t1", "h2", HealthReport(6.0, dangerous=True))
    book.on_ack("t1", "v-h1", Stage.RECEIVED, 7.0)
    return book


def test_summarize_counts_stages_losses_and_latency() -> None:
    counters = Counters(connected=2, retransmissions=3)
    counters.published["alert"] = 6
    counters.acks["repeated"] = 2
    summary = summarize(book_with_alerts(), counters, terminals=2)
    assert summary.alerts_sent == 3
    assert summary.alerts_by_kind == {"emergency": 1, "meal": 1, "test": 1}
    assert summary.acknowledged == {"received": 2, "delivered": 1, "accepted": 1, "resolved": 0}
    assert (summary.lost, summary.lost_alerts) == (1, ["t1/b"])
    assert (summary.transmissions, summary.retransmissions, summary.duplicate_acks) == (6, 3, 2)
    assert (summary.vitals_alerts, summary.dangerous_reports, summary.dangerous_unalerted) == (
        1,
        2,
        1,
    )
    assert summary.latency["press_to_received"].max == 1.0
    assert summary.latency["press_to_accepted"].p50 == 2.0
    assert summary.latency["report_to_received"].count == 1


def test_json_round_trip_with_samples() -> None:
    summary = summarize(book_with_alerts(), Counters(), terminals=2)
    doc = json.loads(json.dumps(summary.to_json(samples=True)))
    assert Summary.from_json(doc) == summary
    assert "samples" not in summary.to_json()


def test_from_json_refuses_unknown_keys() -> None:
    with pytest.raises(ValueError, match="bogus"):
        Summary.from_json({"bogus": 1})


def test_merge_adds_counts_and_recomputes_percentiles() -> None:
    one = summarize(book_with_alerts(), Counters(connected=2), terminals=2)
    two = summarize(book_with_alerts(), Counters(connected=1), terminals=1)
    merged = merge([one, two])
    assert (merged.terminals, merged.connected, merged.alerts_sent, merged.lost) == (3, 3, 6, 2)
    assert merged.alerts_by_kind == {"emergency": 2, "meal": 2, "test": 2}
    assert merged.acknowledged["received"] == 4
    assert merged.lost_alerts == ["t1/b", "t1/b"]
    assert merged.latency["press_to_received"].count == 4


def test_merge_keeps_when_each_process_started_its_scenario() -> None:
    """Each process starts its scenario (and so its storm) once its own terminals are
    online: a benchmark that splits presses by time needs every process's start."""
    one = summarize(book_with_alerts(), Counters(), terminals=2)
    two = summarize(book_with_alerts(), Counters(), terminals=1)
    one.scenario_started, two.scenario_started = [100.0], [130.5]
    merged = merge([one, two])
    assert sorted(merged.scenario_started) == [100.0, 130.5]
    assert Summary.from_json(merged.to_json()).scenario_started == merged.scenario_started


def test_storm_presses_get_their_own_series() -> None:
    book = AlertBook()
    book.add(AlertRecord("t1", "a", "meal", 10.0))
    book.add(AlertRecord("t2", "b", "emergency", 10.0, storm=True))
    book.add(AlertRecord("t3", "c", "emergency", 10.0, storm=True))
    book.on_ack("t1", "a", Stage.RECEIVED, 10.1)
    book.on_ack("t2", "b", Stage.RECEIVED, 10.5)
    summary = summarize(book, Counters(), terminals=3)
    assert summary.latency["press_to_received"].count == 2
    assert summary.latency["storm_press_to_received"].count == 1
    assert summary.latency["storm_press_to_received"].max == pytest.approx(0.5)
    assert summary.latency["storm_press_to_resolved"].count == 0
    assert summary.latency["nominal_press_to_received"].count == 1
    assert summary.latency["nominal_press_to_received"].max == pytest.approx(0.1)
    assert summary.lost_alerts == ["t3/c"]
    calm = summarize(book_with_alerts(), Counters(), 2).latency
    assert "storm_press_to_received" not in calm
    assert "nominal_press_to_received" not in calm


def test_press_to_received_is_split_at_the_gateways_publish() -> None:
    book = AlertBook()
    book.add(AlertRecord("t1", "a", "emergency", 10.0))
    book.add(AlertRecord("t2", "b", "emergency", 10.0, storm=True))
    book.add(AlertRecord("t3", "c", "meal", 10.0))
    # The gateway published t1's ack at 10.03 and it arrived at 10.25: 30 ms up, 220 down.
    book.on_ack("t1", "a", Stage.RECEIVED, 10.25, sent=10.03)
    book.on_ack("t1", "a", Stage.ACCEPTED, 19.0, sent=18.9)  # later acks keep the first
    book.on_ack("t2", "b", Stage.RECEIVED, 11.0, sent=10.9)
    book.on_ack("t3", "c", Stage.RECEIVED, 10.5)  # an ack without ts: no split
    latency = summarize(book, Counters(), terminals=3).latency
    assert latency["press_to_gateway_ack"].count == 2
    assert latency["nominal_press_to_gateway_ack"].max == pytest.approx(0.03)
    assert latency["nominal_gateway_ack_to_terminal"].max == pytest.approx(0.22)
    assert latency["storm_press_to_gateway_ack"].max == pytest.approx(0.9)
    assert latency["storm_gateway_ack_to_terminal"].max == pytest.approx(0.1)
