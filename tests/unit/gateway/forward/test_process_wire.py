"""The pipe between the gateway and its forwarding process: what crosses it, both ways."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from firmware_protocol.messages import Stage
from gateway.config import GatewayConfig
from gateway.forward.process import (
    SECTIONS,
    Commands,
    EndOfInput,
    PipeReports,
    Report,
    config_line,
    read_config,
    wake_line,
)
from gateway.store.intake import StageUpdate

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
text = st.text(min_size=1, max_size=20)
sinks = st.sampled_from(["webhook", "upstream"])
updates = st.builds(
    StageUpdate, text, text, st.sampled_from(list(Stage)), st.none() | text,
    st.none() | st.integers(0, 10_000), st.none() | st.text(max_size=40),
)  # fmt: skip
ages = st.floats(0, 1e6, allow_nan=False)


@given(
    st.lists(updates, max_size=5),
    st.lists(st.tuples(sinks, st.integers(1, 5000)), max_size=3),
    st.lists(
        st.tuples(sinks, st.sampled_from(["ok", "retry", "dead"]), st.integers(0, 99)), max_size=3
    ),
    st.lists(st.tuples(sinks, st.lists(ages, max_size=5)), max_size=3),
    st.none() | st.floats(0, 1e6, allow_nan=False),
)
def test_a_report_comes_out_of_the_pipe_as_it_went_in(
    acks: list[StageUpdate],
    batches: list[tuple[str, int]],
    outcomes: list[tuple[str, str, int]],
    delivered: list[tuple[str, list[float]]],
    tls_failures: float | None,
) -> None:
    report = Report(acks, batches, outcomes, delivered, tls_failures)
    line = report.encode()
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1  # one report, one line, whatever the notes hold
    assert Report.decode(line) == report


def test_the_child_gets_the_sections_it_uses_secret_included(tmp_path: Path) -> None:
    cfg = GatewayConfig.model_validate({
        "webhook": {"enabled": True, "secret": SECRET, "url": "https://cc.example/hook",
                    "batch_max": 77, "own_process": True},
        "store": {"path": str(tmp_path / "g.db"), "synchronous": "NORMAL"},
        "registry": {"path": str(tmp_path / "terminals.csv")},
        "site": {"district": "示范区"},
        "mqtt": {"port": 1999},
    })  # fmt: skip
    child = read_config(config_line(cfg))
    for name in SECTIONS:
        assert getattr(child, name) == getattr(cfg, name), name
    assert child.webhook.secret.get_secret_value() == SECRET
    assert child.mqtt.port != 1999  # not a section it uses: left out


async def test_commands_wake_reload_and_end_with_the_input() -> None:
    reader = asyncio.StreamReader()
    for line in (wake_line(10), b"r\n", wake_line(None), b"x unknown\n"):
        reader.feed_data(line)
    reader.feed_eof()
    wakes: list[int | None] = []
    reloads: list[bool] = []
    try:
        await Commands(reader, wakes.append, lambda: reloads.append(True)).run()
    except EndOfInput:
        pass
    else:
        raise AssertionError("stdin closed: the child must end")
    assert wakes == [10, None]
    assert reloads == [True]


class Pipe:
    """A writer that keeps what was written (a StreamWriter's part the reports use)."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.lines.append(data)

    def is_closing(self) -> bool:
        return False

    async def drain(self) -> None:
        return None


async def test_what_one_confirm_reports_goes_out_as_one_line() -> None:
    pipe = Pipe()
    reports = PipeReports(pipe)  # type: ignore[arg-type]
    update = StageUpdate("T1", "a1", Stage.DELIVERED)
    reports.batch("webhook", 3)
    reports.outcome("webhook", "ok", 3)
    reports.delivered("webhook", [0.1, 0.2, 0.3])
    await reports.submit([update])
    await asyncio.sleep(0)  # the flush runs once the loop is free
    assert len(pipe.lines) == 1
    report = Report.decode(pipe.lines[0])
    assert report.acks == [update]
    assert report.batches == [("webhook", 3)]
    assert report.outcomes == [("webhook", "ok", 3)]
    assert report.ages == [("webhook", [0.1, 0.2, 0.3])]
    assert report.tls_failures is None  # nothing failed: no certificate total to send
    await asyncio.sleep(0)
    assert len(pipe.lines) == 1  # nothing new: nothing written


async def test_a_failure_brings_the_certificate_failure_total_along() -> None:
    pipe = Pipe()
    reports = PipeReports(pipe)  # type: ignore[arg-type]
    reports.outcome("webhook", "retry", 2)
    await asyncio.sleep(0)
    report = Report.decode(pipe.lines[0])
    assert report.outcomes == [("webhook", "retry", 2)]
    assert report.tls_failures is not None
