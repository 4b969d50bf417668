from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device_sim.cameras.h264 import AccessUnit, Clip
from device_sim.cameras.rtp import (
    NAL_FU_A,
    PAYLOAD_TYPE,
    DepacketizeError,
    RtpStream,
    datagrams,
    depacketize,
    frame_packets,
    packetize_clip,
    packetize_nal,
    sender_report,
)

SPS = bytes.fromhex("6742c01e") + b"\x11" * 8
PPS = bytes.fromhex("68ce3c80")
IDR = b"\x65\x88" + bytes(range(256)) * 20
SLICE = b"\x41\x9a" + b"\x07" * 300


def _clip() -> Clip:
    return Clip(fps=10, sps=SPS, pps=PPS, frames=(AccessUnit((IDR,)), AccessUnit((SLICE,))))


def test_small_nal_is_a_single_packet() -> None:
    assert packetize_nal(SLICE, 1400) == [SLICE]


def test_large_nal_is_split_into_fu_a() -> None:
    payloads = packetize_nal(IDR, 1000)
    assert len(payloads) == 6
    assert all(len(p) <= 1000 for p in payloads)
    assert all(p[0] & 0x1F == NAL_FU_A and p[0] & 0x60 == IDR[0] & 0x60 for p in payloads)
    assert payloads[0][1] & 0xC0 == 0x80  # start bit
    assert payloads[-1][1] & 0xC0 == 0x40  # end bit
    assert all(p[1] & 0xC0 == 0 for p in payloads[1:-1])
    assert all(p[1] & 0x1F == 5 for p in payloads)


@given(
    nal=st.binary(min_size=1, max_size=5000).map(lambda b: bytes([b[0] & 0x7F | 0x01]) + b[1:]),
    mtu=st.integers(min_value=3, max_value=1500),
)
def test_fu_a_round_trip(nal: bytes, mtu: int) -> None:
    if nal[0] & 0x1F == NAL_FU_A:
        nal = bytes([nal[0] ^ 0x01]) + nal[1:]
    assert depacketize(packetize_nal(nal, mtu)) == [nal]


def test_depacketize_rejects_broken_fragments() -> None:
    fragments = packetize_nal(IDR, 500)
    with pytest.raises(DepacketizeError):
        depacketize(fragments[1:])
    with pytest.raises(DepacketizeError):
        depacketize(fragments[:-1])


def test_idr_frames_carry_sps_and_pps_first() -> None:
    clip = packetize_clip(_clip(), max_payload=1400)
    stream = RtpStream(ssrc=1, seq=0, timestamp=0)
    first = [bytes(p[12:]) for p in datagrams(stream.render(clip.frames[0]), clip.frames[0])]
    assert depacketize(first) == [SPS, PPS, IDR]
    second = [bytes(p[12:]) for p in datagrams(stream.render(clip.frames[1]), clip.frames[1])]
    assert depacketize(second) == [SLICE]
    assert clip.timestamp_step == 9000


def test_render_fills_headers_and_marks_last_packet() -> None:
    frame = frame_packets([b"\x41a", b"\x41bb", b"\x41ccc"])
    stream = RtpStream(ssrc=0xDEADBEEF, seq=0xFFFF, timestamp=1234, channel=2)
    buf = stream.render(frame)
    packets = []
    for offset in frame.offsets:
        magic, channel, length = struct.unpack_from(">cBH", buf, offset)
        assert (magic, channel) == (b"$", 2)
        packets.append((*struct.unpack_from(">BBHII", buf, offset + 4), length))
    assert [p[2] for p in packets] == [0xFFFF, 0, 1]  # sequence numbers wrap
    assert {p[3] for p in packets} == {1234}
    assert {p[4] for p in packets} == {0xDEADBEEF}
    assert [p[1] for p in packets] == [PAYLOAD_TYPE, PAYLOAD_TYPE, 0x80 | PAYLOAD_TYPE]
    assert [p[5] for p in packets] == [14, 15, 16]
    assert stream.seq == 2
    assert stream.packets_sent == 3
    assert stream.octets_sent == 2 + 3 + 4


def test_template_is_not_modified_by_rendering() -> None:
    frame = frame_packets([b"\x41a"])
    before = frame.template
    RtpStream(ssrc=5, seq=9, timestamp=9).render(frame)
    assert frame.template == before


def test_advance_wraps_timestamp() -> None:
    stream = RtpStream(ssrc=1, seq=0, timestamp=0xFFFFFFFF - 10)
    stream.advance(9000)
    assert stream.timestamp == 8989


def test_sender_report_layout() -> None:
    stream = RtpStream(ssrc=7, seq=0, timestamp=90000, packets_sent=3, octets_sent=100)
    packet = sender_report(stream, 1_700_000_000.5, "cam-001")
    version, kind, words, ssrc = struct.unpack_from(">BBHI", packet)
    assert (version, kind, words, ssrc) == (0x80, 200, 6, 7)
    ntp_seconds, fraction, rtp_ts, packets, octets = struct.unpack_from(">IIIII", packet, 8)
    assert ntp_seconds == 1_700_000_000 + 2_208_988_800
    assert fraction == 1 << 31
    assert (rtp_ts, packets, octets) == (90000, 3, 100)
    sdes = packet[28:]
    assert sdes[1] == 202
    assert len(sdes) % 4 == 0
    assert (struct.unpack_from(">H", sdes, 2)[0] + 1) * 4 == len(sdes)
    assert b"cam-001" in sdes
