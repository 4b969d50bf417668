"""procstat: the whole machine's busy CPU is sampled beside the process groups."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.procstat import (
    MACHINE,
    STOLEN,
    Sampler,
    machine_usage,
    machine_waited,
    waits,
    written_bytes,
)


def _spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_the_machine_is_at_least_as_busy_as_this_process() -> None:
    busy, _ = machine_usage()
    _spin(0.3)
    assert machine_usage()[0] - busy >= 0.25


def test_a_sampler_with_the_machine_reports_it_as_groups() -> None:
    # The spinner is a process of its own: spinning in this one would starve the
    # sampler's thread of the interpreter (every /proc read hands it over and waits to
    # get it back), leaving a window with too few samples to say anything.
    spin = "import time\nend = time.process_time() + 0.6\nwhile time.process_time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", spin])
    with Sampler({"child": [child.pid]}, interval_s=0.05, machine=True) as sampler:
        child.wait(timeout=30)
    end = time.monotonic()
    spinner, machine = sampler.window("child", 0, end), sampler.window(MACHINE, 0, end)
    # Both in clock ticks (10 ms) read one after the other: equal within a few ticks.
    assert machine["cores"] >= spinner["cores"] * 0.5 > 0
    assert sampler.window(STOLEN, 0, end)["cores"] >= 0


def test_written_bytes_grow_with_this_processs_writes(tmp_path: Path) -> None:
    before = written_bytes()
    assert before is not None
    (tmp_path / "out").write_bytes(b"x" * 100_000)
    after = written_bytes(os.getpid())
    assert after is not None
    assert after - before >= 100_000
    assert written_bytes(2**22 + 12345) is None  # no such process


def test_a_process_that_exits_keeps_the_cpu_it_used() -> None:
    spin = "import time\nend = time.process_time() + 0.4\nwhile time.process_time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", spin])
    with Sampler({"child": [child.pid]}, interval_s=0.05) as sampler:
        child.wait(timeout=30)
        time.sleep(0.3)  # samples after it has gone
    used = sampler.window("child", 0, time.monotonic())
    # The last samples read nothing of the exited child; its CPU must not fall back to 0.
    last = sampler.samples[-1][1]["child"][0]
    assert last >= 0.3
    assert used["cores"] > 0


def test_more_spinners_than_cores_wait_for_one() -> None:
    spin = "import time\nend = time.monotonic() + 1.0\nwhile time.monotonic() < end: pass"
    count = (os.cpu_count() or 1) + 2
    children = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(count)]
    pids = [child.pid for child in children]
    with Sampler({"spinners": pids}, interval_s=0.05, machine=True) as sampler:
        for child in children:
            child.wait(timeout=30)
    end = time.monotonic()
    spinners = sampler.window("spinners", 0, end)
    # At least two of them had no core at any time: on average > 1 waiting.
    assert spinners["waiting"] > 0.5
    assert spinners["wait_per_run_ms"] > 0
    assert sampler.window(MACHINE, 0, end)["waiting"] > 0.5  # someone waited most of the time
    assert machine_waited() > 0


def test_waits_are_read_per_thread_and_empty_once_gone() -> None:
    # This process's own threads, each with its wait and its run count.
    mine = waits(os.getpid())
    assert os.getpid() in mine
    assert all(runs > 0 for _, runs in mine.values())
    assert waits(2**22 + 12345) == {}
