"""RTP packetization of H.264 (RFC 6184) done once per clip, headers per viewer.

Each frame of a clip is cut into RTP payloads once, at start: a NAL unit that fits is
sent as a single-NAL-unit packet, a larger one as FU-A fragments, and SPS and PPS
go before every IDR picture. The payloads are laid out back to back with an
RTSP interleaved prefix (``$``, channel, length) and a 12-byte RTP header template,
so serving a frame to a viewer is one buffer copy plus a few ``struct.pack_into``
calls for channel, sequence number, timestamp and SSRC.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from device_sim.cameras.h264 import NAL_IDR, Clip, nal_type

PAYLOAD_TYPE = 96
CLOCK_RATE = 90_000
MAX_PAYLOAD = 1400  # keeps UDP datagrams under a 1500-byte MTU
NAL_FU_A = 28
_NTP_EPOCH_OFFSET = 2_208_988_800  # seconds from 1900 to 1970
_SEQ_TS_SSRC = struct.Struct(">HII")


class DepacketizeError(ValueError):
    """RTP payloads that do not form whole NAL units."""


def packetize_nal(nal: bytes, max_payload: int = MAX_PAYLOAD) -> list[bytes]:
    """RTP payloads for one NAL unit: itself, or FU-A fragments of it."""
    if len(nal) <= max_payload:
        return [nal]
    if max_payload < 3:
        raise ValueError("max_payload too small for FU-A")
    indicator = (nal[0] & 0xE0) | NAL_FU_A
    kind = nal[0] & 0x1F
    body = nal[1:]
    step = max_payload - 2
    chunks = [body[i : i + step] for i in range(0, len(body), step)]
    payloads = []
    for index, chunk in enumerate(chunks):
        start = 0x80 if index == 0 else 0
        end = 0x40 if index == len(chunks) - 1 else 0
        payloads.append(bytes((indicator, start | end | kind)) + chunk)
    return payloads


def depacketize(payloads: Iterable[bytes]) -> list[bytes]:
    """NAL units from single-NAL and FU-A payloads (the inverse of ``packetize_nal``)."""
    nals: list[bytes] = []
    fragment: bytearray | None = None
    for payload in payloads:
        if len(payload) < 1:
            raise DepacketizeError("empty payload")
        if payload[0] & 0x1F != NAL_FU_A:
            if fragment is not None:
                raise DepacketizeError("unfinished FU-A before a single NAL unit")
            nals.append(bytes(payload))
            continue
        if len(payload) < 2:
            raise DepacketizeError("FU-A without header")
        fu = payload[1]
        if fu & 0x80:
            fragment = bytearray(((payload[0] & 0xE0) | (fu & 0x1F),))
        if fragment is None:
            raise DepacketizeError("FU-A continuation without a start")
        fragment += payload[2:]
        if fu & 0x40:
            nals.append(bytes(fragment))
            fragment = None
    if fragment is not None:
        raise DepacketizeError("unfinished FU-A at the end")
    return nals


@dataclass(frozen=True, slots=True)
class FramePackets:
    """One frame's RTP packets as an interleaved template.

    ``template`` holds, per packet, ``$ channel length`` then the RTP header (with
    payload type and marker set) and the payload; ``offsets`` are where each packet's
    ``$`` is.
    """

    template: bytes
    offsets: tuple[int, ...]

    @property
    def packet_count(self) -> int:
        """Number of RTP packets in the frame."""
        return len(self.offsets)


@dataclass(frozen=True, slots=True)
class PacketizedClip:
    """A clip ready to stream: frames of packets and the 90 kHz step between them."""

    clip: Clip
    frames: tuple[FramePackets, ...]

    @property
    def fps(self) -> int:
        """Frames per second the clip is paced at."""
        return self.clip.fps

    @property
    def timestamp_step(self) -> int:
        """RTP timestamp increment per frame."""
        return round(CLOCK_RATE / self.clip.fps)


def packetize_clip(clip: Clip, max_payload: int = MAX_PAYLOAD) -> PacketizedClip:
    """Cut every frame of ``clip`` into RTP packet templates."""
    frames = []
    for unit in clip.frames:
        nals: list[bytes] = []
        if any(nal_type(n) == NAL_IDR for n in unit.nals):
            nals += [clip.sps, clip.pps]
        nals += unit.nals
        payloads = [p for nal in nals for p in packetize_nal(nal, max_payload)]
        frames.append(frame_packets(payloads))
    return PacketizedClip(clip=clip, frames=tuple(frames))


def frame_packets(payloads: Sequence[bytes]) -> FramePackets:
    """Interleaved template for one frame; the marker bit goes on the last packet."""
    template = bytearray()
    offsets = []
    for index, payload in enumerate(payloads):
        marker = 0x80 if index == len(payloads) - 1 else 0
        offsets.append(len(template))
        template += struct.pack(">cBH", b"$", 0, 12 + len(payload))
        template += struct.pack(">BBHII", 0x80, marker | PAYLOAD_TYPE, 0, 0, 0)
        template += payload
    return FramePackets(template=bytes(template), offsets=tuple(offsets))


@dataclass(slots=True)
class RtpStream:
    """One viewer's RTP state: SSRC, next sequence number and timestamp, counters."""

    ssrc: int
    seq: int
    timestamp: int
    channel: int = 0
    packets_sent: int = 0
    octets_sent: int = 0

    def render(self, frame: FramePackets) -> bytearray:
        """``frame`` with this viewer's header fields, interleaved framing included.

        Advances the sequence number by the frame's packet count; the caller advances
        the timestamp with ``advance`` once the frame is sent.
        """
        buf = bytearray(frame.template)
        for offset in frame.offsets:
            buf[offset + 1] = self.channel
            _SEQ_TS_SSRC.pack_into(buf, offset + 6, self.seq, self.timestamp, self.ssrc)
            self.seq = (self.seq + 1) & 0xFFFF
        self.packets_sent += frame.packet_count
        self.octets_sent += len(buf) - 16 * frame.packet_count
        return buf

    def advance(self, step: int) -> None:
        """Move the timestamp on by one frame."""
        self.timestamp = (self.timestamp + step) & 0xFFFFFFFF


def datagrams(buf: bytearray, frame: FramePackets) -> list[memoryview]:
    """The RTP packets of a rendered frame without the interleaved prefixes."""
    view = memoryview(buf)
    ends = [*frame.offsets[1:], len(buf)]
    return [view[start + 4 : end] for start, end in zip(frame.offsets, ends, strict=True)]


def sender_report(stream: RtpStream, wallclock: float, cname: str) -> bytes:
    """RTCP compound packet: sender report for ``stream`` now, plus SDES CNAME."""
    ntp = wallclock + _NTP_EPOCH_OFFSET
    seconds = int(ntp)
    fraction = int((ntp - seconds) * (1 << 32)) & 0xFFFFFFFF
    report = struct.pack(
        ">BBHIIIIII",
        0x80,
        200,
        6,
        stream.ssrc,
        seconds & 0xFFFFFFFF,
        fraction,
        stream.timestamp,
        stream.packets_sent & 0xFFFFFFFF,
        stream.octets_sent & 0xFFFFFFFF,
    )
    name = cname.encode("utf-8")[:255]
    chunk = struct.pack(">IBB", stream.ssrc, 1, len(name)) + name + b"\x00"
    chunk += b"\x00" * (-len(chunk) % 4)
    sdes = struct.pack(">BBH", 0x81, 202, len(chunk) // 4) + chunk
    return report + sdes


def interleave(channel: int, packet: bytes) -> bytes:
    """``packet`` framed for RTSP interleaved transport on ``channel``."""
    return struct.pack(">cBH", b"$", channel, len(packet)) + packet
