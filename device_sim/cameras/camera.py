"""One simulated camera: its identity, its listening port and its current fault.

The camera owns its socket so that connection faults can be real: ``refused`` closes
the listener (the port stays bound but not listening, so a connect is refused), and
every other fault is read by its connections and senders as they go.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from device_sim.cameras.auth import Credentials
from device_sim.cameras.faults import Fault
from device_sim.cameras.rtp import PacketizedClip
from device_sim.cameras.rtsp import MAX_HEAD_BYTES

logger = logging.getLogger(__name__)

STREAM_PATH = "/stream"


@dataclass(frozen=True, slots=True)
class CameraIdentity:
    """Who a camera is: ids, scene variant and login."""

    camera_id: str
    facility_id: str
    variant: int
    credentials: Credentials


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """One manifest row: how to reach a camera and what it is doing."""

    camera_id: str
    facility_id: str
    url: str
    host: str
    port: int
    path: str
    username: str
    password: str
    fault: Fault
    scene: int

    def to_json(self) -> dict[str, Any]:
        """The row as written to the manifest and served by the control endpoint."""
        return {
            "id": self.camera_id,
            "facility": self.facility_id,
            "url": self.url,
            "host": self.host,
            "port": self.port,
            "path": self.path,
            "username": self.username,
            "password": self.password,
            "fault": self.fault.value,
            "scene": self.scene,
        }


ConnectHandler = Callable[["Camera", asyncio.StreamReader, asyncio.StreamWriter], None]


def rtsp_url(host: str, port: int, path: str = STREAM_PATH) -> str:
    """``rtsp://host:port/path``, with brackets around an IPv6 host."""
    shown = f"[{host}]" if ":" in host else host
    return f"rtsp://{shown}:{port}{path}"


class Camera:
    """A camera's socket and state; ``clip`` and ``fault`` are what its viewers see."""

    def __init__(
        self, identity: CameraIdentity, host: str, port: int, clip: PacketizedClip
    ) -> None:
        self.identity = identity
        self._host = host
        self._port = port
        self._clip = clip
        self._fault = Fault.NONE
        self._server: asyncio.Server | None = None
        self._holder: socket.socket | None = None
        self._listening: socket.socket | None = None
        self._on_connect: ConnectHandler | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def clip(self) -> PacketizedClip:
        """The clip viewers are streamed now."""
        return self._clip

    @property
    def fault(self) -> Fault:
        """The injected fault, ``Fault.NONE`` when healthy."""
        return self._fault

    @property
    def port(self) -> int:
        """The camera's TCP port (known once ``open`` has bound it)."""
        return self._port

    @property
    def url(self) -> str:
        """The stream URL, without credentials."""
        return rtsp_url(self._host, self._port)

    def info(self) -> CameraInfo:
        """The camera's manifest row."""
        creds = self.identity.credentials
        return CameraInfo(
            camera_id=self.identity.camera_id,
            facility_id=self.identity.facility_id,
            url=self.url,
            host=self._host,
            port=self._port,
            path=STREAM_PATH,
            username=creds.username,
            password=creds.password,
            fault=self._fault,
            scene=self.identity.variant,
        )

    def bind(self, fault: Fault, clip: PacketizedClip) -> None:
        """Bind the port (listening unless ``fault`` is ``refused``) without accepting yet.

        Raises ``OSError`` when the port cannot be bound.
        """
        self._fault, self._clip = fault, clip
        if fault is Fault.REFUSED:
            self._holder = bind_socket(self._host, self._port, listen=False)
            self._port = self._holder.getsockname()[1]
        else:
            self._listening = bind_socket(self._host, self._port, listen=True)
            self._port = self._listening.getsockname()[1]

    async def start(self, on_connect: ConnectHandler) -> None:
        """Start accepting connections on the bound port."""
        self._on_connect = on_connect
        if self._listening is not None:
            sock, self._listening = self._listening, None
            await self._serve(sock)

    async def apply(self, fault: Fault, clip: PacketizedClip) -> None:
        """Switch to ``fault`` and ``clip``; viewers pick the change up at their next frame."""
        self._fault, self._clip = fault, clip
        if fault is Fault.REFUSED:
            self._stop_listening(hold_port=True)
        elif self._server is None and self._on_connect is not None:
            await self._start_listening()

    def track(self, writer: asyncio.StreamWriter) -> None:
        """Remember a connection, so that ``refused`` and ``close`` can cut it."""
        self._writers.add(writer)

    def untrack(self, writer: asyncio.StreamWriter) -> None:
        """Forget a finished connection."""
        self._writers.discard(writer)

    def close(self) -> None:
        """Stop listening, release the port and cut every connection."""
        self._stop_listening(hold_port=False)
        if self._listening is not None:
            self._listening.close()
            self._listening = None
        if self._holder is not None:
            self._holder.close()
            self._holder = None

    async def _start_listening(self) -> None:
        if self._holder is not None:
            self._holder.close()
            self._holder = None
        await self._serve(bind_socket(self._host, self._port, listen=True))

    async def _serve(self, sock: socket.socket) -> None:
        self._port = sock.getsockname()[1]
        try:
            self._server = await asyncio.start_server(self._accept, sock=sock, limit=MAX_HEAD_BYTES)
        except OSError:
            sock.close()
            raise
        logger.debug("%s listening on %s", self.identity.camera_id, self.url)

    def _stop_listening(self, *, hold_port: bool) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        if hold_port and self._holder is None:
            # Keep the port bound but not listening: a connect is then refused.
            self._holder = bind_socket(self._host, self._port, listen=False)
            self._port = self._holder.getsockname()[1]

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._on_connect is None:
            writer.transport.abort()
            return
        self._on_connect(self, reader, writer)


def bind_socket(host: str, port: int, *, listen: bool) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0 picks a free port), listening if asked."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        if listen:
            sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock
