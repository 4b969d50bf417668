"""The one fake of each seam the monitor uses (``Prober``, ``EventSink``) and watchers."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import replace

import pytest

from gateway.cameras.probe import ProbeOutcome, ProbeReport, ProbeRequest
from gateway.core.events import Event
from tests.unit.cameras.scenes import HEALTHY

Script = Callable[[ProbeRequest], ProbeReport]

GOOD = ProbeReport(outcome=ProbeOutcome.REACHABLE, measures=HEALTHY, snapshot=b"\xff\xd8jpeg")
BLACK = ProbeReport(
    outcome=ProbeOutcome.REACHABLE,
    measures=replace(
        HEALTHY,
        mean_luma=2.0,
        bright_fraction=0.0,
        spread=4.0,
        motion=0.0,  # a dead signal: the encoder sends black
        colourfulness=None,
        chromaticity=None,
    ),
    snapshot=b"\xff\xd8dark",
)
FROZEN = ProbeReport(
    outcome=ProbeOutcome.REACHABLE,
    measures=replace(HEALTHY, motion=0.0),
    snapshot=b"\xff\xd8still",
)
DARK = ProbeReport(  # a live but empty dark picture: an unlit room, or a capped lens
    outcome=ProbeOutcome.REACHABLE,
    measures=replace(HEALTHY, mean_luma=3.0, bright_fraction=0.0, spread=6.0, colourfulness=None),
    snapshot=b"\xff\xd8night",
)
REFUSED = ProbeReport.failed(ProbeOutcome.REFUSED, "connection refused")


def url(camera_id: str) -> str:
    """The URL the test configs give a camera."""
    return f"rtsp://cams.example/{camera_id}"


class FakeProber:
    """Answers each probe from a per-URL script; a URL in ``hang`` never answers.

    ``scripts`` maps a camera URL to a function of the request, or to a fixed report.
    ``calls`` records the URLs probed, in order.
    """

    def __init__(
        self,
        scripts: dict[str, Script | ProbeReport] | None = None,
        hang: Sequence[str] = (),
    ) -> None:
        self.scripts: dict[str, Script | ProbeReport] = dict(scripts or {})
        self.hang = set(hang)
        self.calls: list[str] = []
        self.cancelled: list[str] = []

    async def probe(self, request: ProbeRequest) -> ProbeReport:
        self.calls.append(request.url)
        if request.url in self.hang:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled.append(request.url)
                raise
        await asyncio.sleep(0)
        script = self.scripts[request.url]
        return script if isinstance(script, ProbeReport) else script(request)


class RecordingSink:
    """Keeps every emitted event; ``fail`` makes the next emit raise once."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.fail = False

    async def emit(self, events: Sequence[Event]) -> None:
        if self.fail:
            self.fail = False
            raise OSError("store unavailable")
        known = {e.event_id for e in self.events}
        self.events.extend(e for e in events if e.event_id not in known)


async def wait_until(condition: Callable[[], bool], task: asyncio.Task[None]) -> None:
    """Poll ``condition`` while ``task`` runs; fail if it stops or 30 s pass."""
    async with asyncio.timeout(30):
        while not condition():
            assert not task.done(), "the monitor stopped"
            await asyncio.sleep(0.01)


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel a running monitor and wait until it has stopped."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
