"""Simulated facility RTSP cameras with injectable faults.

Why a hand-written RTSP server: Python has no maintained pure-Python RTSP server
library, and gst-rtsp-server (through GObject bindings) runs its own main loop and
threads outside the asyncio task group and offers no hook for faults such as a
socket that accepts and never answers or a stream that stalls mid-flow. What a
camera needs of RTSP 1.0 is small (OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN,
keepalives, Digest and Basic authentication, RTP over TCP or UDP), and writing it on
asyncio streams lets one process serve hundreds of cameras from clips encoded once,
with every fault under the farm's control.

Flow: ``clips`` picks a clip per scene and fault -> ``scene`` renders its frames ->
``encoder`` encodes them once with ``ffmpeg`` and caches them on disk ->
``h264`` splits them into pictures -> ``rtp`` cuts them into packet templates ->
``camera`` listens -> ``connection`` speaks RTSP (``rtsp``, ``auth``, ``sdp``) ->
``streamer`` paces RTP to each viewer. ``farm`` owns it all; ``control`` and ``cli``
drive it.
"""

from device_sim.cameras.camera import CameraInfo
from device_sim.cameras.config import ConfigError, FarmConfig, Scenario, ScheduledFault
from device_sim.cameras.farm import CameraFarm, FarmError, UnknownCameraError
from device_sim.cameras.faults import Fault

__all__ = [
    "CameraFarm",
    "CameraInfo",
    "ConfigError",
    "FarmConfig",
    "FarmError",
    "Fault",
    "Scenario",
    "ScheduledFault",
    "UnknownCameraError",
]
