"""The probe wire format: the password travels only in the worker's stdin line."""

from __future__ import annotations

import json

from pydantic import SecretStr

from gateway.cameras.capture import with_credentials
from gateway.cameras.probe import ProbeOutcome, ProbeReport, ProbeRequest
from tests.unit.cameras.scenes import HEALTHY

REQUEST = ProbeRequest(
    url="rtsp://10.0.0.5/live",
    username="admin",
    password=SecretStr("pa ss"),
    open_timeout_seconds=5,
    read_timeout_seconds=5,
    sample_frames=8,
    sample_seconds=2,
    analysis_width=320,
    snapshot_width=640,
    snapshot_quality=80,
)


def test_password_is_hidden_everywhere_but_the_line() -> None:
    assert "pa ss" not in repr(REQUEST)
    assert "pa ss" not in REQUEST.model_dump_json()
    line = REQUEST.to_line()
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert json.loads(line)["password"] == "pa ss"
    again = ProbeRequest.model_validate_json(line)
    assert again.password is not None
    assert again.password.get_secret_value() == "pa ss"


def test_report_round_trips_with_snapshot_and_measures() -> None:
    report = ProbeReport(
        outcome=ProbeOutcome.REACHABLE,
        measures=HEALTHY,
        snapshot=b"\xff\xd8\x00\n\xff",
        width=1920,
        height=1080,
    )
    line = report.model_dump_json()
    assert "\n" not in line
    assert ProbeReport.model_validate_json(line) == report


def test_credentials_are_percent_encoded_into_the_url() -> None:
    assert with_credentials("rtsp://h:554/s", "ad min", "p@ss:/w") == (
        "rtsp://ad%20min:p%40ss%3A%2Fw@h:554/s"
    )
    assert with_credentials("rtsp://h/s", "user", None) == "rtsp://user@h/s"
    assert with_credentials("rtsp://h/s", None, "x") == "rtsp://h/s"
