"""The alarm-path benchmark's offer: what its load generators sent, and how fast."""

from __future__ import annotations

import json
from pathlib import Path

from bench.alarm_path import offered
from device_sim.procs import ManagedProcess


def _finished(tmp_path: Path, name: str, messages: int, seconds: float) -> ManagedProcess:
    """A load generator's process as it is once done: its log ends with its JSON line."""
    log = tmp_path / f"{name}.log"
    log.write_text("connecting …\n" + json.dumps({"messages": messages, "seconds": seconds}))
    return ManagedProcess(["true"], log)


def test_the_offer_is_all_messages_over_the_slowest_generators_time(tmp_path: Path) -> None:
    loaders = [_finished(tmp_path, "a", 30_000, 3.0), _finished(tmp_path, "b", 30_000, 6.0)]

    offer = offered(loaders)

    assert offer == {"offered_rate": 10_000.0, "sent": 60_000.0}
