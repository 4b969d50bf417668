"""Router: every bad input is counted by reason and logged once; the batch goes on."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest

from firmware_protocol.codec import encode_alert
from firmware_protocol.errors import Reason
from firmware_protocol.messages import MAX_PAYLOAD_BYTES, Alert, AlertKind, Health, Status
from firmware_protocol.vectors import Vector, load_vectors
from gateway.intake.router import Raw, Router
from gateway.registry import Registry
from tests.unit.gateway.helpers import T0, registry, sample, terminal

REJECTED = "gateway_rejected_messages_total"
LOGGER = "gateway.intake.router"
GOOD = Raw("ec/v1/t/T0001/alert", encode_alert(Alert("T0001", "b1", AlertKind.EMERGENCY, T0)))


def alert_payload(**fields: object) -> bytes:
    doc = {"v": 1, "alert_id": "b1", "kind": "emergency", "ts": T0, **fields}
    return json.dumps({k: v for k, v in doc.items() if v is not None}).encode()


# One raw message per rejection reason; the test below checks the list covers them all.
BAD: dict[Reason, Raw] = {
    Reason.OVERSIZE: Raw("ec/v1/t/T0001/alert", alert_payload(note="x" * MAX_PAYLOAD_BYTES)),
    Reason.NOT_JSON: Raw("ec/v1/t/T0001/alert", b"{not json"),
    Reason.NOT_OBJECT: Raw("ec/v1/t/T0001/alert", b"[1, 2]"),
    Reason.BAD_VERSION: Raw("ec/v1/t/T0001/alert", alert_payload(v=2)),
    Reason.MISSING_FIELD: Raw("ec/v1/t/T0001/alert", alert_payload(kind=None)),
    Reason.BAD_TYPE: Raw("ec/v1/t/T0001/alert", alert_payload(ts="yesterday")),
    Reason.BAD_VALUE: Raw("ec/v1/t/T0001/alert", alert_payload(alert_id="v-1")),
    Reason.UNKNOWN_KIND: Raw("ec/v1/t/T0001/alert", alert_payload(kind="party")),
    Reason.BAD_TOPIC: Raw("ec/v1/t/T0001/ack", alert_payload()),
    Reason.TERMINAL_MISMATCH: Raw("ec/v1/t/T0001/alert", alert_payload(terminal_id="T0002")),
    Reason.UNKNOWN_TERMINAL: Raw("ec/v1/t/T9999/alert", alert_payload()),
}


def router() -> Router:
    return Router(registry("T0001"))


def test_every_rejection_reason_has_an_example() -> None:
    assert set(BAD) == set(Reason)


@pytest.mark.parametrize("reason", sorted(BAD, key=str), ids=str)
def test_bad_message_is_dropped_and_counted_by_reason(reason: Reason) -> None:
    before = sample(REJECTED, reason=reason.value)

    accepted = router().route([BAD[reason]], T0)

    assert accepted == []
    assert sample(REJECTED, reason=reason.value) - before == 1


def test_accepted_message_is_decoded_and_counted_by_channel() -> None:
    before = sample("gateway_messages_total", channel="alert")

    accepted = router().route([GOOD], T0)

    assert accepted == [Alert("T0001", "b1", AlertKind.EMERGENCY, T0)]
    assert sample("gateway_messages_total", channel="alert") - before == 1


def test_bad_messages_do_not_stop_the_rest_of_the_batch() -> None:
    batch = [BAD[Reason.NOT_JSON], GOOD, BAD[Reason.UNKNOWN_TERMINAL], BAD[Reason.OVERSIZE], GOOD]

    accepted = router().route(batch, T0)

    assert accepted == [Alert("T0001", "b1", AlertKind.EMERGENCY, T0)] * 2


def test_conformance_vectors_are_routed_as_documented() -> None:
    vectors = [v for v in load_vectors() if v.direction == "uplink"]
    raws = [Raw(v.topic, v.payload) for v in vectors]

    accepted = router().route(raws, T0)

    valid = [v for v in vectors if v.valid]
    assert len(accepted) == len(valid)
    assert all(isinstance(m, Alert | Health | Status) for m in accepted)


INVALID = [v for v in load_vectors() if v.direction == "uplink" and not v.valid]


@pytest.mark.parametrize("vector", INVALID, ids=[v.name for v in INVALID])
def test_each_invalid_vector_counts_its_documented_reason(vector: Vector) -> None:
    assert vector.reason is not None
    before = sample(REJECTED, reason=vector.reason.value)

    assert router().route([Raw(vector.topic, vector.payload)], T0) == []
    assert sample(REJECTED, reason=vector.reason.value) - before == 1


def test_a_flood_logs_once_per_terminal_and_reason(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    other = Raw("ec/v1/t/T0002/alert", b"{not json")
    r = router()

    r.route([BAD[Reason.NOT_JSON]] * 50, T0)
    r.route([BAD[Reason.NOT_JSON]] * 50, T0 + 60)
    r.route([BAD[Reason.BAD_VERSION]] * 5, T0 + 61)
    r.route([other] * 5, T0 + 62)

    lines = [rec.getMessage() for rec in caplog.records if rec.name == LOGGER]
    assert len(lines) == 3
    assert "ec/v1/t/T0001/alert" in lines[0]
    assert "not_json" in lines[0]
    assert "bad_version" in lines[1]
    assert "ec/v1/t/T0002/alert" in lines[2]


def test_the_same_problem_is_logged_again_after_the_window(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    r = router()

    r.route([BAD[Reason.NOT_JSON]], T0)
    r.route([BAD[Reason.NOT_JSON]], T0 + 599)
    r.route([BAD[Reason.NOT_JSON]], T0 + 601)

    assert len([rec for rec in caplog.records if rec.name == LOGGER]) == 2


def test_malformed_topic_is_logged_without_a_sender(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)

    router().route([Raw("garbage", b"{}"), Raw("also/garbage", b"{}")], T0)

    # Both have no terminal level: one key ("?", bad_topic), one line.
    assert len([rec for rec in caplog.records if rec.name == LOGGER]) == 1


def zoned_router() -> Router:
    return Router(Registry([replace(terminal("T0001"), zone="north")]), bridged=True)


def test_a_district_broker_topic_is_accepted_from_the_terminals_own_zone() -> None:
    raw = Raw("ec/v1/z/north/t/T0001/alert", GOOD.payload)

    (message,) = zoned_router().route([raw], T0)

    assert message.terminal_id == "T0001"


def test_an_alarm_through_another_zone_is_rejected_as_wrong_zone(
    caplog: pytest.LogCaptureFixture,
) -> None:
    before = sample(REJECTED, reason="wrong_zone")
    raws = [Raw("ec/v1/z/south/t/T0001/alert", GOOD.payload)] * 3

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        accepted = zoned_router().route(raws, T0)

    assert accepted == []
    assert sample(REJECTED, reason="wrong_zone") - before == 3
    assert len([r for r in caplog.records if "wrong" in r.getMessage()]) == 1


def test_a_district_broker_topic_without_a_zone_is_a_bad_topic() -> None:
    before = sample(REJECTED, reason="bad_topic")

    assert zoned_router().route([GOOD], T0) == []
    assert sample(REJECTED, reason="bad_topic") - before == 1
