"""``CameraFarm``: N simulated RTSP cameras, and their faults, in one asyncio process.

Start-up encodes (or loads from cache) the clips the cameras need and binds every
port, so a bad port or a missing ``ffmpeg`` fails before anything is served. Then
one task group owns every task: the RTSP connections, their RTP senders, the HTTP
control endpoint and the fault schedule.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from device_sim.cameras.auth import Credentials, derive_password
from device_sim.cameras.camera import Camera, CameraIdentity, CameraInfo
from device_sim.cameras.clips import ClipSpec, spec_for
from device_sim.cameras.config import FarmConfig, camera_id, facility_id
from device_sim.cameras.connection import RtspConnection, ServerSettings
from device_sim.cameras.control import ControlServer
from device_sim.cameras.encoder import ClipLibrary, EncodeError
from device_sim.cameras.faults import Fault
from device_sim.cameras.h264 import BitstreamError
from device_sim.cameras.rtp import PacketizedClip, packetize_clip

logger = logging.getLogger(__name__)

ChangeListener = Callable[[Sequence[CameraInfo], CameraInfo | None], None]


class FarmError(RuntimeError):
    """The farm could not start, or a fault could not be applied."""


class UnknownCameraError(KeyError):
    """No camera has the given id."""


class CameraFarm:
    """Serves ``config.count`` cameras; ``run`` until cancelled or ``stop``.

    ``on_change`` is called with every camera's row once the farm is ready (with
    ``None`` as the changed camera) and after each fault change.
    """

    def __init__(self, config: FarmConfig, *, on_change: ChangeListener | None = None) -> None:
        self._config = config
        self._on_change = on_change
        self._library = ClipLibrary(config.cache_dir)
        self._base = ClipSpec(config.width, config.height, config.fps, config.seconds, 0)
        self._packetized: dict[ClipSpec, PacketizedClip] = {}
        self._settings = ServerSettings(
            secret=secrets.token_bytes(32),
            stall_after_s=config.stall_after_s,
            session_timeout_s=config.session_timeout_s,
        )
        self._cameras: dict[str, Camera] = {}
        self._control: ControlServer | None = None
        self._tg: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._settled = asyncio.Event()
        self._stopping = asyncio.Event()
        self._failure: BaseException | None = None

    async def run(self) -> None:
        """Start every camera and serve until cancelled or ``stop`` is called."""
        try:
            await self._bind_all()
            async with asyncio.TaskGroup() as tg:
                self._tg = tg
                await self._start_serving()
                self._spawn(self._run_schedule(), "fault-schedule")
                self._settled.set()
                self._notify(None)
                await self._stopping.wait()
                self._close()
        except BaseException as exc:
            self._failure = self._failure or exc
            raise
        finally:
            self._close()
            self._settled.set()

    async def wait_ready(self) -> None:
        """Return once every camera accepts; raise ``FarmError`` if start-up failed."""
        await self._settled.wait()
        if self._failure is not None:
            raise FarmError(f"camera farm failed: {self._failure}") from self._failure

    def stop(self) -> None:
        """Ask ``run`` to close every camera and return."""
        self._stopping.set()

    @property
    def control_url(self) -> str | None:
        """Base URL of the HTTP control endpoint, once started."""
        return self._control.url if self._control is not None else None

    def cameras(self) -> list[CameraInfo]:
        """Every camera's row, in id order."""
        return [camera.info() for camera in self._cameras.values()]

    def manifest(self) -> dict[str, Any]:
        """JSON-ready description of the farm: control URL and camera rows."""
        return {
            "control_url": self.control_url,
            "cameras": [info.to_json() for info in self.cameras()],
        }

    async def set_fault(self, camera_id: str, fault: Fault) -> CameraInfo:
        """Inject ``fault`` (``Fault.NONE`` clears) into a camera now."""
        camera = self._cameras.get(camera_id)
        if camera is None:
            raise UnknownCameraError(camera_id)
        clip = await self._clip(spec_for(self._base, camera.identity.variant, fault))
        try:
            await camera.apply(fault, clip)
        except OSError as exc:
            raise FarmError(f"{camera_id}: cannot apply {fault.value}: {exc}") from exc
        logger.info("%s: fault %s", camera_id, fault.value)
        info = camera.info()
        self._notify(info)
        return info

    async def _bind_all(self) -> None:
        config = self._config
        faults = config.scenario.faults
        for index in range(config.count):
            cam_id = camera_id(index)
            identity = CameraIdentity(
                camera_id=cam_id,
                facility_id=facility_id(index, config.per_facility),
                variant=index % config.variants,
                credentials=Credentials(config.username, derive_password(config.seed, cam_id)),
            )
            port = config.base_port + index if config.base_port else 0
            fault = faults.get(cam_id, Fault.NONE)
            clip = await self._clip(spec_for(self._base, identity.variant, fault))
            camera = Camera(identity, config.host, port, clip)
            try:
                camera.bind(fault, clip)
            except OSError as exc:
                self._close()
                raise FarmError(f"{cam_id}: cannot bind {config.host}:{port}: {exc}") from exc
            self._cameras[cam_id] = camera
        if config.control_port is not None:
            self._control = ControlServer(self, config.host, config.control_port)

    async def _start_serving(self) -> None:
        for camera in self._cameras.values():
            await camera.start(self._accept)
        if self._control is not None:
            await self._control.start(self._spawn)

    async def _clip(self, spec: ClipSpec) -> PacketizedClip:
        packetized = self._packetized.get(spec)
        if packetized is None:
            try:
                clip = await self._library.get(spec)
            except (EncodeError, BitstreamError, OSError) as exc:
                raise FarmError(f"cannot prepare clip {spec.key}: {exc}") from exc
            packetized = self._packetized.setdefault(spec, packetize_clip(clip))
        return packetized

    def _accept(
        self, camera: Camera, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        connection = RtspConnection(camera, reader, writer, self._settings, self._spawn)
        if self._spawn(connection.run(), f"{camera.identity.camera_id}-rtsp") is None:
            writer.transport.abort()

    def _spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None] | None:
        """Run ``coro`` in the farm's task group; None (and ``coro`` closed) when stopping."""
        if self._tg is None or self._stopping.is_set():
            coro.close()
            return None
        try:
            task = self._tg.create_task(coro, name=name)
        except RuntimeError:  # the group is already shutting down
            coro.close()
            return None
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run_schedule(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for at, cam_id, fault in self._config.scenario.timeline():
            await asyncio.sleep(max(0.0, start + at - loop.time()))
            try:
                await self.set_fault(cam_id, fault)
            except FarmError as exc:
                logger.error("scheduled fault failed: %s", exc)

    def _notify(self, changed: CameraInfo | None) -> None:
        if self._on_change is not None:
            self._on_change(self.cameras(), changed)

    def _close(self) -> None:
        for camera in self._cameras.values():
            camera.close()
        if self._control is not None:
            self._control.close()
        for task in list(self._tasks):
            task.cancel()
