"""Round trips for every message type, and fuzzing: nothing but ProtocolError ever escapes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_protocol.codec import (
    MAX_DEPTH,
    decode_ack,
    decode_command,
    decode_uplink,
    encode_ack,
    encode_alert,
    encode_command,
    encode_health,
    encode_status,
)
from firmware_protocol.errors import ProtocolError, Reason
from firmware_protocol.messages import (
    MAX_PAYLOAD_BYTES,
    Ack,
    Alert,
    Command,
    Health,
    Status,
    Vitals,
)
from firmware_protocol.topics import UPLINK, Channel, topic
from tests.unit.protocol import strategies as s
from tests.unit.protocol.helpers import decode_message

FAST = settings(max_examples=300, deadline=None)
UPLINK_TOPICS = [topic("T0001", channel) for channel in sorted(UPLINK)]
DOWNLINK_DECODERS: list[Callable[[bytes], Any]] = [decode_ack, decode_command]


@FAST
@given(s.alerts())
def test_alert_round_trip(alert: Alert) -> None:
    payload = encode_alert(alert)
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert decode_uplink(topic(alert.terminal_id, Channel.ALERT), payload) == alert


@FAST
@given(s.healths)
def test_health_round_trip(health: Health) -> None:
    payload = encode_health(health)
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert decode_uplink(topic(health.terminal_id, Channel.HEALTH), payload) == health


@FAST
@given(s.statuses)
def test_status_round_trip(status: Status) -> None:
    payload = encode_status(status)
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert decode_uplink(topic(status.terminal_id, Channel.STATUS), payload) == status


@FAST
@given(s.acks)
def test_ack_round_trip(ack: Ack) -> None:
    payload = encode_ack(ack)
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert decode_ack(payload) == ack


@FAST
@given(s.commands)
def test_command_round_trip(command: Command) -> None:
    payload = encode_command(command)
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert decode_command(payload) == command


def _uplink_survives(topic_name: str, payload: bytes) -> None:
    """Decode or raise ProtocolError; whatever is accepted must encode and decode again."""
    try:
        message = decode_uplink(topic_name, payload)
    except ProtocolError:
        return
    encoders: dict[type, Callable[[Any], bytes]] = {
        Alert: encode_alert,
        Health: encode_health,
        Status: encode_status,
    }
    assert decode_uplink(topic_name, encoders[type(message)](message)) == message


def _downlink_survives(decode: Callable[[bytes], Any], payload: bytes) -> None:
    try:
        message = decode(payload)
    except ProtocolError:
        return
    encode = encode_ack if isinstance(message, Ack) else encode_command
    assert decode(encode(message)) == message


@FAST
@given(st.sampled_from(UPLINK_TOPICS), st.binary(max_size=MAX_PAYLOAD_BYTES + 16))
def test_arbitrary_bytes_on_uplink(topic_name: str, payload: bytes) -> None:
    _uplink_survives(topic_name, payload)


@FAST
@given(st.sampled_from(UPLINK_TOPICS), s.json_values)
def test_arbitrary_json_on_uplink(topic_name: str, value: Any) -> None:
    _uplink_survives(topic_name, json.dumps(value).encode())


# Mutants: a valid message with one field replaced (or added) reaches every field check.
_FIELDS = {
    Channel.ALERT: ["v", "terminal_id", "alert_id", "kind", "ts", "cancels", "note"],
    Channel.HEALTH: ["v", "terminal_id", "report_id", "ts", "vitals", *Vitals.__slots__],
    Channel.STATUS: ["v", "terminal_id", "state", "ts", "battery_pct", "signal_dbm", "firmware"],
    Channel.ACK: ["v", "alert_id", "stage", "ts", "by", "eta_s", "note"],
    Channel.CMD: ["v", "cmd_id", "cmd", "ts", "args"],
}
_VALID: dict[Channel, st.SearchStrategy[bytes]] = {
    Channel.ALERT: s.alerts().map(encode_alert),
    Channel.HEALTH: s.healths.map(encode_health),
    Channel.STATUS: s.statuses.map(encode_status),
    Channel.ACK: s.acks.map(encode_ack),
    Channel.CMD: s.commands.map(encode_command),
}


@st.composite
def mutants(draw: st.DrawFn, channel: Channel) -> bytes:
    doc = json.loads(draw(_VALID[channel]))
    key = draw(st.sampled_from(_FIELDS[channel]))
    # vital names (in Vitals.__slots__) live inside "vitals"
    target = doc["vitals"] if key in Vitals.__slots__ else doc
    target[key] = draw(s.trap_values | s.json_values)
    return json.dumps(target if target is doc else doc).encode()


@FAST
@given(st.sampled_from(sorted(UPLINK)).flatmap(lambda c: st.tuples(st.just(c), mutants(c))))
def test_one_bad_field_on_uplink(case: tuple[Channel, bytes]) -> None:
    channel, payload = case
    _uplink_survives(topic("T0001", channel), payload)


@FAST
@given(mutants(Channel.ACK))
def test_one_bad_field_in_ack(payload: bytes) -> None:
    _downlink_survives(decode_ack, payload)


@FAST
@given(mutants(Channel.CMD))
def test_one_bad_field_in_command(payload: bytes) -> None:
    _downlink_survives(decode_command, payload)


@FAST
@given(
    st.sampled_from(DOWNLINK_DECODERS),
    st.binary(max_size=MAX_PAYLOAD_BYTES + 16)
    | s.json_values.map(lambda v: json.dumps(v).encode()),
)
def test_arbitrary_downlink(decode: Callable[[bytes], Any], payload: bytes) -> None:
    _downlink_survives(decode, payload)


_TEXT_FIELDS = [
    (Channel.ALERT, "note"),
    (Channel.STATUS, "firmware"),
    (Channel.ACK, "by"),
    (Channel.ACK, "note"),
]


@FAST
@given(st.sampled_from(_TEXT_FIELDS), s.wild_text, st.data())
def test_accepted_text_is_valid_unicode(
    field: tuple[Channel, str], text: str, data: st.DataObject
) -> None:
    channel, name = field
    doc = json.loads(data.draw(_VALID[channel]))
    doc[name] = text
    payload = json.dumps(doc).encode()  # ASCII escapes: a lone surrogate becomes "\\udXXX"
    try:
        message = decode_message(topic("T0001", channel), payload)
    except ProtocolError as exc:
        reason = exc.reason
    else:
        getattr(message, name).encode("utf-8")  # storable and re-encodable
        return
    assert reason is Reason.BAD_VALUE


_UNKNOWN_KEYS = st.text(max_size=8).filter(lambda k: k not in _FIELDS[Channel.ALERT])


@FAST
@given(
    s.alerts(),
    st.dictionaries(_UNKNOWN_KEYS, s.json_scalars | st.lists(s.json_scalars), max_size=3),
)
def test_unknown_fields_are_ignored(alert: Alert, extra: dict[str, Any]) -> None:
    doc = {**extra, **json.loads(encode_alert(alert))}
    payload = json.dumps(doc, separators=(",", ":")).encode()
    assert decode_uplink(topic(alert.terminal_id, Channel.ALERT), payload) == alert


def _status_nested(levels: int) -> bytes:
    """A valid status whose unknown field ``x`` brings the total nesting to ``levels``."""
    inner = "[" * (levels - 1) + "]" * (levels - 1)
    return f'{{"v":1,"state":"online","x":{inner}}}'.encode()


def test_nesting_at_the_limit_is_accepted() -> None:
    decode_uplink("ec/v1/t/T0001/status", _status_nested(MAX_DEPTH))


def test_nesting_beyond_the_limit_is_not_json() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_uplink("ec/v1/t/T0001/status", _status_nested(MAX_DEPTH + 1))
    assert caught.value.reason is Reason.NOT_JSON


def test_nesting_limit_does_not_depend_on_the_call_stack() -> None:
    payload = ('{"v":1,"state":"online","x":' + "[" * 900 + "]" * 900 + "}").encode()

    def nested(levels: int) -> Reason:
        if levels:
            return nested(levels - 1)
        with pytest.raises(ProtocolError) as caught:
            decode_uplink("ec/v1/t/T0001/status", payload)
        return caught.value.reason

    assert nested(0) is nested(400) is Reason.NOT_JSON


def test_error_names_the_field() -> None:
    with pytest.raises(ProtocolError) as caught:
        decode_uplink(
            "ec/v1/t/T0001/health",
            b'{"v":1,"report_id":"r1","ts":1,"vitals":{"heart_rate_bpm":301}}',
        )
    assert caught.value.field == "vitals.heart_rate_bpm"
    assert str(caught.value).startswith("bad_value: ")
