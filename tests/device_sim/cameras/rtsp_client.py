"""A minimal RTSP client for the tests: requests, Digest login, interleaved RTP."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import struct
from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


@dataclass
class RtpPacket:
    channel: int
    marker: bool
    seq: int
    timestamp: int
    ssrc: int
    payload: bytes


@dataclass
class RtspClient:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    url: str
    username: str = ""
    password: str = ""
    cseq: int = 0
    session: str | None = None
    challenge: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def connect(cls, url: str, username: str = "", password: str = "") -> RtspClient:
        host, port = re.match(r"rtsp://([^:/]+):(\d+)", url).groups()  # type: ignore[union-attr]
        reader, writer = await asyncio.open_connection(host, int(port))
        return cls(reader, writer, url, username, password)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    async def request(self, method: str, uri: str | None = None, **headers: str) -> Reply:
        uri = uri or self.url
        self.cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self.cseq}"]
        if self.session:
            lines.append(f"Session: {self.session}")
        if self.challenge and self.username:
            lines.append(f"Authorization: {self._digest(method, uri)}")
        lines += [f"{k.replace('_', '-')}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        reply = await self.read_reply()
        assert reply.header("CSeq") == str(self.cseq)
        return reply

    async def login(self, method: str = "DESCRIBE") -> Reply:
        """Send ``method``; on a Digest challenge, answer it once."""
        reply = await self.request(method, Accept="application/sdp")
        if reply.status == 401:
            for value in reply.headers.get("www-authenticate", []):
                if value.startswith("Digest"):
                    self.challenge = dict(re.findall(r'(\w+)="([^"]*)"', value))
            reply = await self.request(method, Accept="application/sdp")
        return reply

    def _digest(self, method: str, uri: str) -> str:
        realm, nonce = self.challenge["realm"], self.challenge["nonce"]
        ha1 = _md5(f"{self.username}:{realm}:{self.password}")
        ha2 = _md5(f"{method}:{uri}")
        response = _md5(f"{ha1}:{nonce}:{ha2}")
        return (
            f'Digest username="{self.username}", realm="{realm}", nonce="{nonce}", '
            f'uri="{uri}", response="{response}"'
        )

    async def read_reply(self) -> Reply:
        while True:
            first = await self.reader.readexactly(1)
            if first != b"$":
                break
            size = struct.unpack(">xH", await self.reader.readexactly(3))[0]
            await self.reader.readexactly(size)
        head = first + await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers: dict[str, list[str]] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.setdefault(name.lower(), []).append(value.strip())
        length = int(headers.get("content-length", ["0"])[0])
        body = await self.reader.readexactly(length) if length else b""
        return Reply(status, headers, body)

    async def play_tcp(self) -> Reply:
        """DESCRIBE (with login), SETUP interleaved and PLAY."""
        described = await self.login()
        assert described.status == 200, described
        base = described.header("Content-Base") or f"{self.url}/"
        setup = await self.request(
            "SETUP", f"{base}trackID=0", Transport="RTP/AVP/TCP;unicast;interleaved=0-1"
        )
        assert setup.status == 200, setup
        self.session = (setup.header("Session") or "").split(";")[0]
        played = await self.request("PLAY", base, Range="npt=0.000-")
        assert played.status == 200, played
        return played

    async def next_rtp(self) -> RtpPacket:
        """The next interleaved packet (RTP on channel 0, RTCP on channel 1)."""
        marker = await self.reader.readexactly(1)
        assert marker == b"$", marker
        channel, size = struct.unpack(">BH", await self.reader.readexactly(3))
        data = await self.reader.readexactly(size)
        if channel % 2:
            return RtpPacket(channel, False, 0, 0, 0, data)
        _, mpt, seq, ts, ssrc = struct.unpack(">BBHII", data[:12])
        return RtpPacket(channel, bool(mpt & 0x80), seq, ts, ssrc, data[12:])

    async def next_video(self) -> RtpPacket:
        while True:
            packet = await self.next_rtp()
            if packet.channel == 0:
                return packet


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
