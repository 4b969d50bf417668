"""The RTSP dialogue on one client connection to one camera.

Reads requests (and skips the client's interleaved RTCP), checks credentials,
answers OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN and GET/SET_PARAMETER, and
starts one ``MediaSender`` per playing session. The camera's fault decides what the
client sees: ``offline`` reads everything and answers nothing, ``unauthorized``
answers 401 to every credential, ``not_found`` answers 404 to DESCRIBE and SETUP.
The server is written by hand on asyncio streams; the package docstring says why.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from device_sim.cameras import auth
from device_sim.cameras.camera import STREAM_PATH, Camera
from device_sim.cameras.faults import Fault
from device_sim.cameras.rtp import RtpStream
from device_sim.cameras.rtsp import (
    Request,
    RequestError,
    Response,
    TransportSpec,
    error_response,
    parse_head,
    parse_transport,
)
from device_sim.cameras.sdp import TRACK, build_sdp
from device_sim.cameras.streamer import InterleavedSink, MediaSender, MediaSink, UdpSink

logger = logging.getLogger(__name__)

PUBLIC = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER, SET_PARAMETER"
_CLOSING_STATUSES = frozenset({400, 413, 505})

# Runs a coroutine in the farm's task group; None when the farm is stopping.
Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None] | None"]


@dataclass(frozen=True, slots=True)
class ServerSettings:
    """Settings every camera's RTSP dialogue shares."""

    secret: bytes
    stall_after_s: float
    session_timeout_s: int = 60


@dataclass(slots=True)
class _Session:
    session_id: str
    stream: RtpStream
    sink: MediaSink
    udp: UdpSink | None
    sender: asyncio.Task[None] | None = None


class RtspConnection:
    """One client connection; ``run`` serves it until the client or the camera ends it."""

    def __init__(
        self,
        camera: Camera,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        settings: ServerSettings,
        spawn: Spawn,
    ) -> None:
        self._camera = camera
        self._reader = reader
        self._writer = writer
        self._settings = settings
        self._spawn = spawn
        self._session: _Session | None = None
        self._start_after_reply = False
        self._name = camera.identity.camera_id

    async def run(self) -> None:
        """Serve requests until the connection ends; never raises but on cancellation."""
        self._camera.track(self._writer)
        try:
            await self._serve()
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            logger.debug("%s: connection ended: %r", self._name, exc)
        except Exception:  # one broken connection must not stop the farm
            logger.exception("%s: connection failed", self._name)
        finally:
            self._end_session()
            self._camera.untrack(self._writer)
            self._writer.close()

    async def _serve(self) -> None:
        while True:
            if self._is_offline():
                await self._blackhole()
                return
            try:
                head = await self._next_head()
            except RequestError as exc:
                self._writer.write(error_response(exc).encode())
                return
            if head is None:
                return
            if self._is_offline():
                continue  # went offline while the request was in flight
            response = await self._answer(head)
            self._writer.write(response.encode())
            if response.status in _CLOSING_STATUSES:
                return
            if self._start_after_reply:
                self._start_after_reply = False
                self._start_sender()

    def _is_offline(self) -> bool:
        return self._camera.fault is Fault.OFFLINE

    async def _blackhole(self) -> None:
        """Read and drop everything, like a device that accepts and then hangs."""
        while await self._reader.read(65536):
            pass

    async def _next_head(self) -> bytes | None:
        """The next request head; None at end of stream. Skips interleaved frames."""
        while True:
            first = await self._reader.read(1)
            if not first:
                return None
            if first == b"$":
                size = int.from_bytes((await self._reader.readexactly(3))[1:], "big")
                await self._reader.readexactly(size)
                continue
            if first in (b"\r", b"\n"):
                continue
            try:
                return first + await self._reader.readuntil(b"\r\n\r\n")
            except asyncio.LimitOverrunError:
                raise RequestError("request head too large") from None

    async def _answer(self, head: bytes) -> Response:
        try:
            request = parse_head(head)
            length = request.content_length()
            if length:
                await self._reader.readexactly(length)
            return await self._dispatch(request)
        except RequestError as exc:
            return error_response(exc)

    async def _dispatch(self, request: Request) -> Response:
        handlers: dict[str, Callable[[Request], Awaitable[Response]]] = {
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._play,
            "PAUSE": self._pause,
            "TEARDOWN": self._teardown,
            "GET_PARAMETER": self._keepalive,
            "SET_PARAMETER": self._keepalive,
        }
        if request.method == "OPTIONS":
            return Response(200, request.cseq, [("Public", PUBLIC)])
        handler = handlers.get(request.method)
        if handler is None:
            return Response(501, request.cseq, [("Public", PUBLIC)])
        denied = self._authorize(request)
        if denied is not None:
            return denied
        if not _is_stream_path(request.uri):
            return Response(404, request.cseq)
        return await handler(request)

    def _authorize(self, request: Request) -> Response | None:
        now = time.time()
        result = auth.AuthResult.INVALID
        if self._camera.fault is not Fault.UNAUTHORIZED:
            result = auth.check(
                request.header("Authorization"),
                request.method,
                self._camera.identity.credentials,
                self._settings.secret,
                now,
            )
        if result is auth.AuthResult.OK:
            return None
        nonce = auth.make_nonce(self._settings.secret, now)
        stale = result is auth.AuthResult.STALE
        return Response(401, request.cseq, auth.challenge(nonce, stale=stale))

    async def _describe(self, request: Request) -> Response:
        if self._camera.fault is Fault.NOT_FOUND:
            return Response(404, request.cseq)
        url = self._camera.url
        sdp = build_sdp(
            self._camera.clip.clip,
            session_id=int(time.time()),
            host=urlsplit(url).hostname or "0.0.0.0",
            name=self._name,
        )
        return Response(
            200,
            request.cseq,
            [("Content-Base", f"{url}/")],
            body=sdp.encode("utf-8"),
            content_type="application/sdp",
        )

    async def _setup(self, request: Request) -> Response:
        if self._camera.fault is Fault.NOT_FOUND:
            return Response(404, request.cseq)
        if self._session is not None:
            return Response(459, request.cseq)  # one track, one session per connection
        spec = parse_transport(request.header("Transport"))
        stream = RtpStream(
            ssrc=secrets.randbits(32),
            seq=secrets.randbits(16),
            timestamp=secrets.randbits(32),
            channel=spec.interleaved[0],
        )
        ssrc = f"ssrc={stream.ssrc:08X}"
        if spec.tcp:
            sink: MediaSink = InterleavedSink(self._writer, spec.interleaved[1])
            udp = None
            low, high = spec.interleaved
            transport = f"RTP/AVP/TCP;unicast;interleaved={low}-{high};{ssrc}"
        else:
            udp = await self._open_udp(spec)
            sink = udp
            transport = f"RTP/AVP;unicast;{udp.describe()};{ssrc}"
        self._session = _Session(secrets.token_hex(8), stream, sink, udp)
        return Response(200, request.cseq, [("Transport", transport), self._session_header()])

    async def _open_udp(self, spec: TransportSpec) -> UdpSink:
        loop = asyncio.get_running_loop()
        host = self._writer.get_extra_info("sockname")[0]
        peer = self._writer.get_extra_info("peername")[0]
        rtp, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, (host, 0))
        try:
            rtcp, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol, (host, 0))
        except OSError:
            rtp.close()
            raise
        return UdpSink(rtp, rtcp, peer, spec.client_port)

    async def _play(self, request: Request) -> Response:
        session = self._check_session(request)
        if session.sender is None:
            self._start_after_reply = True  # first RTP packet only after the reply
        info = f"url={self._camera.url}/{TRACK};seq={session.stream.seq};"
        info += f"rtptime={session.stream.timestamp}"
        headers = [("Range", "npt=0.000-"), ("RTP-Info", info), self._session_header()]
        return Response(200, request.cseq, headers)

    async def _pause(self, request: Request) -> Response:
        session = self._check_session(request)
        if session.sender is not None:
            session.sender.cancel()
            session.sender = None
        return Response(200, request.cseq, [self._session_header()])

    async def _teardown(self, request: Request) -> Response:
        self._check_session(request)
        self._end_session()
        return Response(200, request.cseq)

    async def _keepalive(self, request: Request) -> Response:
        if self._session is None or request.header("Session") is None:
            return Response(200, request.cseq)
        self._check_session(request)
        return Response(200, request.cseq, [self._session_header()])

    def _check_session(self, request: Request) -> _Session:
        session = self._session
        if session is None:
            raise RequestError("no session set up", status=455, cseq=request.cseq)
        given = (request.header("Session") or "").split(";")[0].strip()
        if given != session.session_id:
            raise RequestError("unknown session", status=454, cseq=request.cseq)
        return session

    def _session_header(self) -> tuple[str, str]:
        assert self._session is not None
        timeout = self._settings.session_timeout_s
        return "Session", f"{self._session.session_id};timeout={timeout}"

    def _start_sender(self) -> None:
        session = self._session
        if session is None or session.sender is not None:
            return
        sender = MediaSender(
            self._camera,
            session.sink,
            session.stream,
            stall_after=self._settings.stall_after_s,
            cname=self._name,
        )
        session.sender = self._spawn(sender.run(), f"{self._name}-rtp-{session.session_id}")

    def _end_session(self) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        if session.sender is not None:
            session.sender.cancel()
        if session.udp is not None:
            session.udp.close()


def _is_stream_path(uri: str) -> bool:
    try:
        path = urlsplit(uri).path.rstrip("/")
    except ValueError:
        return False
    return path == STREAM_PATH or path.startswith(f"{STREAM_PATH}/")
