"""The packet codec on its own: known bytes, round trips, and a fuzzed decoder."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_protocol.mqtt import packets
from firmware_protocol.mqtt.errors import MalformedPacket
from firmware_protocol.mqtt.packets import (
    MQTT5,
    MQTT311,
    ConnAck,
    Decoder,
    Disconnect,
    PingResp,
    PubAck,
    Publish,
    SubAck,
    Will,
)

WILL = Will("ec/v1/t/T0001/status", b'{"v":1,"state":"offline"}')


def test_connect_matches_the_specification_bytes() -> None:
    packet = packets.connect("T0001", username="T0001", password="pw", keepalive_s=60, will=WILL)
    body = (
        b"\x00\x04MQTT\x04"
        + bytes([0x80 | 0x40 | 0x20 | 0x08 | 0x04 | 0x02])  # user, pw, will retain+qos1, clean
        + b"\x00\x3c"
        + b"\x00\x05T0001"
        + b"\x00\x14ec/v1/t/T0001/status"
        + b"\x00\x19" + WILL.payload
        + b"\x00\x05T0001"
        + b"\x00\x02pw"
    )  # fmt: skip
    assert packet == b"\x10" + packets.remaining_length(len(body)) + body


def test_connect_v5_has_empty_properties() -> None:
    packet = packets.connect("c", keepalive_s=30, version=MQTT5)
    assert packet == b"\x10\x0e\x00\x04MQTT\x05\x02\x00\x1e\x00\x00\x01c"


def test_connect_v5_with_a_session_expiry_carries_that_one_property() -> None:
    packet = packets.connect("c", keepalive_s=30, clean=False, version=MQTT5,
                             session_expiry_s=60)  # fmt: skip
    # Properties: length 5, Session Expiry Interval (0x11) = 60 as a four-byte integer.
    assert packet == b"\x10\x13\x00\x04MQTT\x05\x00\x00\x1e\x05\x11\x00\x00\x00\x3c\x00\x01c"


def test_connect_311_has_no_room_for_a_session_expiry() -> None:
    assert packets.connect("c", session_expiry_s=60) == packets.connect("c")


@pytest.mark.parametrize(
    ("n", "encoded"),
    [(0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (16_383, b"\xff\x7f"),
     (2_097_152, b"\x80\x80\x80\x01"), (268_435_455, b"\xff\xff\xff\x7f")],
)  # fmt: skip
def test_remaining_length_examples_from_the_specification(n: int, encoded: bytes) -> None:
    assert packets.remaining_length(n) == encoded


def test_remaining_length_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        packets.remaining_length(268_435_456)


def test_publish_and_puback_bytes() -> None:
    packet = packets.publish("a/b", b"hi", qos=1, retain=True, packet_id=7)
    assert packet == b"\x33\x09\x00\x03a/b\x00\x07hi"
    assert packets.puback(7) == b"\x40\x02\x00\x07"
    assert packets.subscribe(1, [("a/b", 1)]) == b"\x82\x08\x00\x01\x00\x03a/b\x01"


def test_encoders_refuse_what_this_client_never_sends() -> None:
    with pytest.raises(ValueError, match="QoS"):
        packets.publish("a", b"", qos=2, packet_id=1)
    with pytest.raises(ValueError, match="packet id"):
        packets.publish("a", b"", qos=1, packet_id=0)
    with pytest.raises(ValueError, match="version"):
        packets.connect("c", version=3)


def test_decoder_splits_a_stream_at_any_byte() -> None:
    stream = (
        b"\x20\x02\x00\x00"  # CONNACK accepted
        + b"\x90\x04\x00\x01\x01\x01"  # SUBACK qos 1, 1
        + b"\x32\x0c\x00\x06ec/ack\x00\x09{}"  # PUBLISH qos 1 id 9
        + b"\x40\x02\x00\x05"  # PUBACK 5
        + b"\xd0\x00"  # PINGRESP
    )
    expected = [
        ConnAck(False, 0),
        SubAck(1, (1, 1)),
        Publish("ec/ack", b"{}", 1, False, False, 9),
        PubAck(5),
        PingResp(),
    ]
    for cut in range(len(stream) + 1):
        decoder = Decoder()
        assert decoder.feed(stream[:cut]) + decoder.feed(stream[cut:]) == expected
    one_by_one = Decoder()
    assert [p for b in stream for p in one_by_one.feed(bytes([b]))] == expected


def test_v5_decoder_skips_properties_and_reads_reason_codes() -> None:
    decoder = Decoder(MQTT5)
    stream = (
        b"\x20\x06\x00\x86\x03\x21\x00\x0a"  # CONNACK bad user name or password, one property
        + b"\x40\x02\x00\x05"  # PUBACK 5, success (short form)
        + b"\x40\x04\x00\x06\x10\x00"  # PUBACK 6, "no matching subscribers"
        + b"\x90\x04\x00\x01\x00\x01"  # SUBACK, no properties
        + b"\x30\x05\x00\x01a\x00x"  # PUBLISH qos 0, no properties
        + b"\xe0\x01\x8b"  # DISCONNECT server shutting down
    )
    assert decoder.feed(stream) == [
        ConnAck(False, 0x86),
        PubAck(5, 0),
        PubAck(6, 0x10),
        SubAck(1, (1,)),
        Publish("a", b"x", 0, False, False, None),
        Disconnect(0x8B),
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"\x20\x03\x00\x00\x00",  # CONNACK too long
        b"\x21\x02\x00\x00",  # CONNACK with flags
        b"\x20\x02\x02\x00",  # CONNACK reserved ack flag
        b"\x40\x02\x00\x00",  # PUBACK packet id 0
        b"\x90\x02\x00\x01",  # SUBACK without codes
        b"\x90\x03\x00\x01\x05",  # SUBACK with code 5
        b"\x34\x05\x00\x01a\x00\x01",  # PUBLISH QoS 2
        b"\x38\x03\x00\x01a",  # PUBLISH QoS 0 with DUP
        b"\x30\x03\x00\x01+",  # PUBLISH to a wildcard
        b"\x30\x04\x00\x02\xff\xfe",  # topic not UTF-8
        b"\x30\x03\x00\x05a",  # topic longer than the packet
        b"\xe0\x00",  # DISCONNECT in 3.1.1
        b"\x10\x00",  # CONNECT from a broker
        b"\xa0\x00",  # UNSUBSCRIBE
        b"\x30\xff\xff\xff\xff\x01",  # remaining length of five bytes
        b"\x30\xff\xff\x7f",  # larger than MAX_PACKET
    ],
)
def test_decoder_rejects_malformed_packets(data: bytes) -> None:
    with pytest.raises(MalformedPacket):
        Decoder().feed(data)


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + packets.remaining_length(len(body)) + body


@given(st.binary(max_size=512), st.sampled_from([MQTT311, MQTT5]))
def test_fuzzed_input_decodes_or_is_malformed_never_anything_else(
    data: bytes, version: int
) -> None:
    decoder = Decoder(version)
    try:
        for packet in decoder.feed(data):
            assert isinstance(packet, ConnAck | Publish | PubAck | SubAck | PingResp | Disconnect)
    except MalformedPacket:
        pass


@given(
    st.lists(
        st.tuples(
            st.text(
                st.characters(exclude_characters="+#\x00", exclude_categories=["Cs"]),
                min_size=1,
                max_size=40,
            ),
            st.binary(max_size=300),
            st.booleans(),
            st.integers(1, 0xFFFF),
        ),
        max_size=8,
    ),
    st.integers(1, 64),
)
def test_publishes_round_trip_through_any_chunking(
    messages: list[tuple[str, bytes, bool, int]], chunk: int
) -> None:
    stream = b"".join(
        packets.publish(t, p, qos=1, retain=r, packet_id=i) for t, p, r, i in messages
    )
    decoder = Decoder()
    decoded = [
        p for at in range(0, len(stream), chunk) for p in decoder.feed(stream[at : at + chunk])
    ]
    assert decoded == [Publish(t, p, 1, r, False, i) for t, p, r, i in messages]


@given(st.integers(0, 15), st.binary(max_size=64))
def test_any_packet_type_with_any_body_is_handled(first_nibble: int, body: bytes) -> None:
    for flags in (0, 2, 9):
        with contextlib.suppress(MalformedPacket):
            Decoder(MQTT5).feed(_packet(first_nibble << 4 | flags, body))
