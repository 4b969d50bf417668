"""Pacing one viewer's RTP flow in real time, over TCP interleaved or UDP.

The sender walks the camera's current clip frame by frame at the clip's frame rate,
loops it with continuing sequence numbers and timestamps, and switches to a new clip
(at its first, IDR, frame) as soon as the camera's fault changes the picture. It does
no encoding: every frame is a pre-cut template with this viewer's header fields.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from device_sim.cameras.faults import Fault
from device_sim.cameras.rtp import (
    FramePackets,
    PacketizedClip,
    RtpStream,
    datagrams,
    interleave,
    sender_report,
)

logger = logging.getLogger(__name__)

RTCP_INTERVAL_S = 5.0
MAX_LAG_S = 1.0  # a viewer this far behind skips ahead instead of getting a burst


class StreamSource(Protocol):
    """What a sender needs from its camera, read afresh for every frame."""

    @property
    def clip(self) -> PacketizedClip: ...

    @property
    def fault(self) -> Fault: ...


class MediaSink(Protocol):
    """Where a viewer's packets go."""

    def send_frame(self, buf: bytearray, frame: FramePackets) -> None: ...

    def send_rtcp(self, packet: bytes) -> None: ...

    async def drain(self) -> None: ...


class InterleavedSink:
    """RTP and RTCP framed into the RTSP connection (``RTP/AVP/TCP``)."""

    def __init__(self, writer: asyncio.StreamWriter, rtcp_channel: int) -> None:
        self._writer = writer
        self._rtcp_channel = rtcp_channel

    def send_frame(self, buf: bytearray, frame: FramePackets) -> None:
        self._writer.write(buf)

    def send_rtcp(self, packet: bytes) -> None:
        self._writer.write(interleave(self._rtcp_channel, packet))

    async def drain(self) -> None:
        # Blocks only while the viewer reads slower than we send.
        await self._writer.drain()


class UdpSink:
    """RTP and RTCP as datagrams to the viewer's ports (``RTP/AVP`` unicast)."""

    def __init__(
        self,
        rtp: asyncio.DatagramTransport,
        rtcp: asyncio.DatagramTransport,
        peer: str,
        ports: tuple[int, int],
    ) -> None:
        self._rtp = rtp
        self._rtcp = rtcp
        self._rtp_addr = (peer, ports[0])
        self._rtcp_addr = (peer, ports[1])

    def describe(self) -> str:
        """The ``client_port`` and ``server_port`` parameters of the SETUP reply."""
        rtp_port = self._rtp.get_extra_info("sockname")[1]
        rtcp_port = self._rtcp.get_extra_info("sockname")[1]
        client = f"{self._rtp_addr[1]}-{self._rtcp_addr[1]}"
        return f"client_port={client};server_port={rtp_port}-{rtcp_port}"

    def send_frame(self, buf: bytearray, frame: FramePackets) -> None:
        for packet in datagrams(buf, frame):
            self._rtp.sendto(packet, self._rtp_addr)

    def send_rtcp(self, packet: bytes) -> None:
        self._rtcp.sendto(packet, self._rtcp_addr)

    async def drain(self) -> None:
        return None

    def close(self) -> None:
        """Release both sockets."""
        self._rtp.close()
        self._rtcp.close()


def is_silent(fault: Fault, playing_for: float, stall_after: float) -> bool:
    """Whether a camera with ``fault`` sends nothing ``playing_for`` seconds into a play.

    An offline camera is silent; a stalling one sends for ``stall_after`` seconds and
    then goes quiet while keeping the connection open.
    """
    if fault is Fault.OFFLINE:
        return True
    return fault is Fault.STALL and playing_for >= stall_after


class MediaSender:
    """One viewer's RTP flow; ``run`` streams until cancelled or the viewer goes."""

    def __init__(
        self,
        source: StreamSource,
        sink: MediaSink,
        stream: RtpStream,
        *,
        stall_after: float,
        cname: str,
    ) -> None:
        self._source = source
        self._sink = sink
        self._stream = stream
        self._stall_after = stall_after
        self._cname = cname

    async def run(self) -> None:
        """Send frames in real time; returns when the viewer's connection fails."""
        try:
            await self._pace()
        except (ConnectionError, OSError) as exc:
            logger.debug("%s: viewer gone: %s", self._cname, exc)

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        started = deadline = loop.time()
        last_report = started - RTCP_INTERVAL_S
        clip: PacketizedClip | None = None
        index = 0
        while True:
            if self._source.clip is not clip:
                clip, index = self._source.clip, 0  # a clip starts with an IDR picture
            now = loop.time()
            if is_silent(self._source.fault, now - started, self._stall_after):
                index = 0  # resume, if ever, where a decoder can start
            else:
                if now - last_report >= RTCP_INTERVAL_S:
                    self._sink.send_rtcp(sender_report(self._stream, time.time(), self._cname))
                    last_report = now
                frame = clip.frames[index]
                self._sink.send_frame(self._stream.render(frame), frame)
                index = (index + 1) % len(clip.frames)
                await self._sink.drain()
            self._stream.advance(clip.timestamp_step)
            deadline += 1.0 / clip.fps
            now = loop.time()
            if deadline < now - MAX_LAG_S:
                deadline = now
            await asyncio.sleep(max(0.0, deadline - now))
