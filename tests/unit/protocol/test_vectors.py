"""Every conformance vector through the codec, and the vector files' own coverage and format."""

from __future__ import annotations

import json

import pytest

from firmware_protocol.codec import decode_uplink
from firmware_protocol.errors import ProtocolError, Reason
from firmware_protocol.messages import AlertKind, Stage
from firmware_protocol.topics import parse_topic
from firmware_protocol.vectors import Vector, VectorFileError, load_vectors, parse_vectors
from tests.unit.protocol.helpers import decode_vector, fields_of, same_json

VECTORS = load_vectors()
CODEC_VECTORS = [v for v in VECTORS if not v.needs_registry]


def _id(vector: Vector) -> str:
    return vector.name


@pytest.mark.parametrize("vector", [v for v in CODEC_VECTORS if v.valid], ids=_id)
def test_valid_vector_decodes_to_its_fields(vector: Vector) -> None:
    decoded = fields_of(decode_vector(vector))
    assert same_json(decoded, vector.decoded), decoded


@pytest.mark.parametrize("vector", [v for v in CODEC_VECTORS if not v.valid], ids=_id)
def test_invalid_vector_is_rejected_with_its_reason(vector: Vector) -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_vector(vector)
    assert caught.value.reason is vector.reason, caught.value


@pytest.mark.parametrize("vector", [v for v in VECTORS if v.needs_registry], ids=_id)
def test_registry_vector_passes_the_codec(vector: Vector) -> None:
    # Only the gateway's registry can reject it; the codec has no list of terminals.
    assert vector.reason is Reason.UNKNOWN_TERMINAL
    decode_uplink(vector.topic, vector.payload)


def test_every_reason_has_a_vector() -> None:
    covered = {v.reason for v in CODEC_VECTORS}
    assert set(Reason) - {Reason.UNKNOWN_TERMINAL} <= covered
    assert any(v.reason is Reason.UNKNOWN_TERMINAL and v.needs_registry for v in VECTORS)


def test_every_kind_and_stage_has_a_valid_vector() -> None:
    valid = [v.decoded for v in CODEC_VECTORS if v.valid and v.decoded]
    assert {d["kind"] for d in valid if "kind" in d} == set(AlertKind)
    assert {d["stage"] for d in valid if "stage" in d} == set(Stage)


def test_names_are_unique() -> None:
    names = [v.name for v in VECTORS]
    assert len(names) == len(set(names))


def test_every_file_and_channel_is_used() -> None:
    assert {v.source for v in VECTORS} == {
        "uplink_valid.json",
        "uplink_invalid.json",
        "downlink.json",
    }
    channels = {parse_topic(v.topic)[1].value for v in VECTORS if v.reason is not Reason.BAD_TOPIC}
    assert channels == {"alert", "health", "status", "ack", "cmd"}


@pytest.mark.parametrize("vector", VECTORS, ids=_id)
def test_gateway_answer_shape(vector: Vector) -> None:
    answer = vector.gateway_answer
    is_new_alert = (
        vector.valid and vector.direction == "uplink" and "alert_id" in (vector.decoded or {})
    )
    if not is_new_alert:
        assert answer is None
        return
    assert answer is not None
    assert vector.decoded is not None
    acks = answer["acks"]
    assert acks[0] == {"alert_id": vector.decoded["alert_id"], "stage": "received"}
    for ack in acks:
        assert set(ack) <= {"alert_id", "stage", "by", "eta_s", "note"}


def test_vector_direction_matches_topic() -> None:
    for vector in VECTORS:
        if vector.reason is Reason.BAD_TOPIC:
            continue
        channel = parse_topic(vector.topic)[1].value
        expected = "uplink" if channel in {"alert", "health", "status"} else "downlink"
        assert vector.direction == expected, vector.name


def _file(vector: dict[str, object]) -> str:
    return json.dumps({"format": 1, "direction": "uplink", "description": "", "vectors": [vector]})


GOOD = {
    "name": "x",
    "topic": "ec/v1/t/T0001/status",
    "payload": '{"v":1,"state":"online"}',
    "valid": True,
    "decoded": {"terminal_id": "T0001", "state": "online"},
    "gateway_answer": None,
}


def test_parse_accepts_a_well_formed_file() -> None:
    (vector,) = parse_vectors(_file(GOOD), "t.json")
    assert vector.payload == b'{"v":1,"state":"online"}'
    assert vector.source == "t.json"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"paylod": "{}"}, "unknown key(s) paylod"),
        ({"gateway_answer": ...}, "missing key(s) gateway_answer"),
        ({"payload_hex": "00"}, "exactly one of"),
        ({"payload": ..., "payload_hex": "zz"}, "not hex"),
        ({"reason": "bad_type"}, "a valid vector has 'decoded'"),
        ({"valid": False, "decoded": ..., "reason": "nope"}, "unknown reason 'nope'"),
        ({"valid": "yes"}, "'valid' must be true or false"),
        ({"payload": 5}, "'payload' must be a string"),
    ],
)
def test_parse_names_what_is_wrong(change: dict[str, object], message: str) -> None:
    vector = {**GOOD, **change}
    vector = {key: value for key, value in vector.items() if value is not ...}
    with pytest.raises(VectorFileError) as caught:
        parse_vectors(_file(vector), "t.json")
    assert str(caught.value).startswith("t.json[0]")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "[]",
        "{",
        '{"format": 2, "direction": "uplink", "description": "", "vectors": []}',
        '{"format": 1, "direction": "up", "description": "", "vectors": []}',
        '{"format": 1, "direction": "uplink", "vectors": []}',
    ],
)
def test_parse_rejects_a_malformed_file(text: str) -> None:
    with pytest.raises(VectorFileError):
        parse_vectors(text, "t.json")
