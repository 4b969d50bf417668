from __future__ import annotations

import asyncio
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from device_sim.cameras.faults import Fault
from device_sim.cameras.h264 import AccessUnit, Clip
from device_sim.cameras.rtp import FramePackets, PacketizedClip, RtpStream, packetize_clip
from device_sim.cameras.streamer import MediaSender, is_silent

SPS = bytes.fromhex("6742c01e") + b"\x22" * 6
PPS = bytes.fromhex("68ce3c80")


def _clip(tag: int, fps: int = 1000) -> PacketizedClip:
    idr = bytes([0x65, 0x88, tag]) + b"\x00\x11" * 1000  # needs FU-A
    frames = (
        AccessUnit((idr,)),
        AccessUnit((bytes([0x41, 0x9A, tag, 1]),)),
        AccessUnit((bytes([0x41, 0x9A, tag, 2]),)),
    )
    return packetize_clip(Clip(fps=fps, sps=SPS, pps=PPS, frames=frames))


@dataclass
class Source:
    clip: PacketizedClip
    fault: Fault = Fault.NONE


@dataclass
class Sink:
    wanted: int
    frames: list[list[tuple[bool, int, int, bytes]]] = field(default_factory=list)
    rtcp: list[bytes] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    on_frame: Callable[[int], None] = lambda _: None

    def send_frame(self, buf: bytearray, frame: FramePackets) -> None:
        packets = []
        ends = [*frame.offsets[1:], len(buf)]
        for start, end in zip(frame.offsets, ends, strict=True):
            _, mpt, seq, ts = struct.unpack_from(">BBHI", buf, start + 4)
            packets.append((bool(mpt & 0x80), seq, ts, bytes(buf[start + 16 : end])))
        self.frames.append(packets)
        self.on_frame(len(self.frames))
        if len(self.frames) >= self.wanted:
            self.done.set()

    def send_rtcp(self, packet: bytes) -> None:
        self.rtcp.append(packet)

    async def drain(self) -> None:
        return None


async def _stream(source: Source, sink: Sink) -> None:
    stream = RtpStream(ssrc=9, seq=65530, timestamp=100)
    sender = MediaSender(source, sink, stream, stall_after=60, cname="cam-test")
    async with asyncio.timeout(10), asyncio.TaskGroup() as tg:
        task = tg.create_task(sender.run())
        await sink.done.wait()
        task.cancel()


async def test_loops_with_continuing_sequence_and_timestamps() -> None:
    sink = Sink(wanted=7)
    await _stream(Source(_clip(1)), sink)
    packets = [p for frame in sink.frames[:7] for p in frame]
    seqs = [p[1] for p in packets]
    assert seqs == [(65530 + i) & 0xFFFF for i in range(len(packets))]
    stamps = [frame[0][2] for frame in sink.frames[:7]]
    assert stamps == [100 + 90 * i for i in range(7)]
    for frame in sink.frames:
        assert [p[0] for p in frame] == [False] * (len(frame) - 1) + [True]
        assert len({p[2] for p in frame}) == 1
    kinds = [frame[0][3][0] & 0x1F for frame in sink.frames[:7]]
    assert kinds == [7, 1, 1, 7, 1, 1, 7]  # SPS opens every IDR frame; the loop restarts there
    assert sink.rtcp
    assert sink.rtcp[0][1] == 200


async def test_switches_clip_at_the_next_frame_starting_with_idr() -> None:
    source = Source(_clip(1))
    replacement = _clip(2)

    def switch(count: int) -> None:
        if count == 2:
            source.clip = replacement

    sink = Sink(wanted=4, on_frame=switch)
    await _stream(source, sink)
    assert sink.frames[2][0][3][0] & 0x1F == 7
    assert sink.frames[3][0][3] == bytes([0x41, 0x9A, 2, 1])
    assert [f[0][2] for f in sink.frames[:4]] == [100, 190, 280, 370]


@pytest.mark.parametrize(
    ("fault", "playing_for", "silent"),
    [
        (Fault.NONE, 100.0, False),
        (Fault.BLACK, 100.0, False),
        (Fault.OFFLINE, 0.0, True),
        (Fault.STALL, 1.0, False),
        (Fault.STALL, 2.0, True),
    ],
)
def test_silence(fault: Fault, playing_for: float, silent: bool) -> None:
    assert is_silent(fault, playing_for, stall_after=2.0) is silent
