"""procstat: the whole machine's busy CPU is sampled beside the process groups."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.procstat import MACHINE, STOLEN, Sampler, machine_usage, written_bytes


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_the_machine_is_at_least_as_busy_as_this_process() -> None:
    busy, _ = machine_usage()
    _spin(0.3)
    assert machine_usage()[0] - busy >= 0.25


def test_a_sampler_with_the_machine_reports_it_as_groups() -> None:
    with Sampler({"me": [os.getpid()]}, interval_s=0.05, machine=True) as sampler:
        _spin(0.5)
    end = time.monotonic()
    me, machine = sampler.window("me", 0, end), sampler.window(MACHINE, 0, end)
    # Both in clock ticks (10 ms) read one after the other: equal within a few ticks.
    assert machine["cores"] >= me["cores"] * 0.5 > 0
    assert sampler.window(STOLEN, 0, end)["cores"] >= 0


def test_written_bytes_grow_with_this_processs_writes(tmp_path: Path) -> None:
    before = written_bytes()
    assert before is not None
    (tmp_path / "out").write_bytes(b"x" * 100_000)
    after = written_bytes(os.getpid())
    assert after is not None
    assert after - before >= 100_000
    assert written_bytes(2**22 + 12345) is None  # no such process
