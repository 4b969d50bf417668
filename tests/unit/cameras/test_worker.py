"""The worker's request loop, run in-process."""

from __future__ import annotations

import io
import json
import socket

from gateway.cameras.probe import ProbeOutcome, ProbeReport
from gateway.cameras.worker import handle, serve
from tests.unit.cameras.test_probe import REQUEST


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"rtsp://127.0.0.1:{port}/live"


def test_bad_request_gets_an_error_report() -> None:
    report = ProbeReport.model_validate_json(handle(b'{"url": 5}'))
    assert report.outcome is ProbeOutcome.ERROR
    assert report.detail == "bad probe request"


def test_refused_camera_is_reported_with_cpu_time() -> None:
    request = REQUEST.model_copy(update={"url": closed_port_url()})
    report = ProbeReport.model_validate_json(handle(request.to_line()))
    assert report.outcome is ProbeOutcome.REFUSED
    assert report.cpu_seconds >= 0


def test_serve_answers_one_line_per_request() -> None:
    request = REQUEST.model_copy(update={"url": closed_port_url()}).to_line()
    replies = io.BytesIO()
    serve(io.BytesIO(request + b"\n" + request), replies)
    lines = replies.getvalue().splitlines()
    assert [json.loads(line)["outcome"] for line in lines] == ["refused", "refused"]
