"""Servers the camera integration tests probe: a stock RTSP server and silent ones."""

from __future__ import annotations

import selectors
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("gst_rtsp_server.py")
ENCODE = (
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 ! rtph264pay name=pay0 pt=96"
)
RAW = "video/x-raw,width=640,height=360,framerate=25/1"
SLOW = "video/x-raw,width=640,height=360,framerate=5/1"
MOUNTS = {
    "/ok": f"videotestsrc is-live=true pattern=smpte horizontal-speed=4 ! {RAW} ! {ENCODE}",
    "/black": f"videotestsrc is-live=true pattern=black ! {RAW} ! {ENCODE}",
    # A white ball moving on black at 5 fps: a lamp or a lit doorway in a dark corridor.
    "/ball": f"videotestsrc is-live=true pattern=ball ! {SLOW} ! {ENCODE}",
}


@pytest.fixture(scope="module")
def gst_rtsp() -> Iterator[str]:
    """``rtsp://127.0.0.1:PORT`` of gst-rtsp-server serving :data:`MOUNTS`."""
    if subprocess.run([SYSTEM_PYTHON, "-c", "import gi"], check=False).returncode != 0:
        pytest.skip("the system Python has no gi (python3-gi)")
    specs = [f"{path}={launch}" for path, launch in MOUNTS.items()]
    server = subprocess.Popen(
        [SYSTEM_PYTHON, str(SERVER_SCRIPT), *specs], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(server.stdout, selectors.EVENT_READ)
            if not selector.select(timeout=20):
                pytest.fail("gst-rtsp-server did not start")
        line = server.stdout.readline()
        assert line.startswith("PORT "), f"unexpected server output {line!r}"
        yield f"rtsp://127.0.0.1:{int(line.split()[1])}"
    finally:
        server.kill()
        server.wait()
        if server.stdout is not None:
            server.stdout.close()


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never says a word."""
    sock = _listener()
    try:
        yield f"rtsp://127.0.0.1:{sock.getsockname()[1]}/live"
    finally:
        sock.close()


SDP = (
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=stuck\r\nt=0 0\r\nm=video 0 RTP/AVP 96\r\n"
    "a=rtpmap:96 H264/90000\r\na=control:track1\r\n"
)


def _answer(conn: socket.socket, buffer: bytes) -> bytes:
    """Answer each complete OPTIONS or DESCRIBE in ``buffer``; ignore anything else."""
    while b"\r\n\r\n" in buffer:
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        method = lines[0].split(b" ", 1)[0]
        cseq = next((ln.split(b":", 1)[1].strip() for ln in lines if ln.startswith(b"CSeq")), b"0")
        if method in (b"OPTIONS", b"DESCRIBE"):
            body = SDP.encode() if method == b"DESCRIBE" else b""
            conn.sendall(
                b"RTSP/1.0 200 OK\r\nCSeq: " + cseq + b"\r\nContent-Type: application/sdp"
                b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
    return buffer


def _answer_then_hang(conn: socket.socket, stop: threading.Event) -> None:
    """Answer OPTIONS and DESCRIBE like a camera, then stay silent (a hung encoder)."""
    with conn:
        buffer = b""
        while not stop.is_set():
            try:
                chunk = conn.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if not chunk:
                return
            buffer = _answer(conn, buffer + chunk)


@pytest.fixture
def stuck_camera() -> Iterator[str]:
    """A server that passes the RTSP check but never delivers a stream."""
    sock = _listener()
    sock.settimeout(0.1)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.2)
            threading.Thread(target=_answer_then_hang, args=(conn, stop), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"rtsp://127.0.0.1:{sock.getsockname()[1]}/live"
    finally:
        stop.set()
        thread.join()
        sock.close()
