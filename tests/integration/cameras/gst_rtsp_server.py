"""A stock RTSP server (GStreamer's gst-rtsp-server) for probing against.

Run with the system Python, which has ``gi``::

    /usr/bin/python3 gst_rtsp_server.py /ok="videotestsrc ..." /black="..."

Each argument mounts ``PATH=LAUNCH`` where LAUNCH is a gst-launch description that
ends in an RTP payloader named ``pay0``. The server binds a free port on 127.0.0.1
and prints ``PORT <n>`` on stdout once it is serving; it runs until killed.
"""

from __future__ import annotations

import sys

import gi  # type: ignore[import-not-found]

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found]  # noqa: E402


def main(mounts: list[str]) -> None:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")
    points = server.get_mount_points()
    for spec in mounts:
        path, _, launch = spec.partition("=")
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(f"( {launch} )")
        # One pipeline per client: a shared one is torn down when a client leaves and
        # answers 503 to a client arriving meanwhile.
        factory.set_shared(False)
        points.add_factory(path, factory)
    server.attach(None)
    print(f"PORT {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main(sys.argv[1:])
