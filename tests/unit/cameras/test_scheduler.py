"""CameraMonitor with a fake prober: pipeline, persistence, sweeps, hangs and backoff."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway.cameras.baseline import BaselineStore
from gateway.cameras.config import CamerasConfig
from gateway.cameras.faults import FaultKind
from gateway.cameras.health import Phase
from gateway.cameras.probe import ProbeError, ProbeOutcome, ProbeReport, ProbeRequest
from gateway.cameras.scheduler import CameraMonitor, plan_sweep
from tests.unit.cameras.fakes import (
    BLACK,
    DARK,
    FROZEN,
    GOOD,
    REFUSED,
    FakeProber,
    RecordingSink,
    stop,
    url,
    wait_until,
)
from tests.unit.cameras.scenes import HEALTHY


def make_config(
    tmp_path: Path, *camera_ids: str, facility: dict[str, Any] | None = None, **extra: Any
) -> CamerasConfig:
    fast = {
        "interval_seconds": 0.1,
        "jitter": 0.5,
        "open_timeout_seconds": 0.05,
        "read_timeout_seconds": 0.05,
        "sample_seconds": 0.05,
        "probe_timeout_seconds": 0.3,
        "baseline_probes": 2,
        "snapshot_dir": str(tmp_path),
        "health": {"min_fault_seconds": 0, "confirm_count": 2, "restore_hold_seconds": 0},
    }
    cameras = [{"id": c, "name": c.upper(), "url": url(c)} for c in camera_ids]
    site = {"id": "fac-1", "name": "Sunrise", "region": ["D", "T", "V"], "cameras": cameras}
    site.update(facility or {})
    return CamerasConfig.model_validate({**fast, **extra, "facilities": [site]})


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def monitor_for(
    config: CamerasConfig, prober: FakeProber, sink: RecordingSink, clock: Callable[[], float]
) -> CameraMonitor:
    return CameraMonitor(config, prober, sink, clock=clock, rng=random.Random(7))


def sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_healthy_probe_updates_view_history_and_snapshot(tmp_path: Path) -> None:
    sink, clock = RecordingSink(), Clock()
    monitor = monitor_for(make_config(tmp_path, "c1"), FakeProber({url("c1"): GOOD}), sink, clock)
    view = await monitor.probe_now("c1")
    assert view is not None
    assert view.phase is Phase.OK
    assert view.outcome is ProbeOutcome.REACHABLE
    assert view.last_probe_at == clock.now
    assert view.snapshot_url == "/api/v1/cameras/c1/snapshot.jpg"
    assert view.measures["mean_luma"] == HEALTHY.mean_luma
    assert monitor.snapshot("c1") == GOOD.snapshot
    history = monitor.history("c1")
    assert history is not None
    assert [h.outcome for h in history] == [ProbeOutcome.REACHABLE]
    assert sink.events == []
    assert sample("gateway_camera_state", {"camera": "c1", "facility": "fac-1", "state": "ok"}) == 1


async def test_unknown_camera(tmp_path: Path) -> None:
    monitor = monitor_for(make_config(tmp_path, "c1"), FakeProber(), RecordingSink(), Clock())
    assert await monitor.probe_now("nope") is None
    assert monitor.camera("nope") is None
    assert monitor.history("nope") is None
    assert monitor.snapshot("nope") is None
    assert not await monitor.relearn("nope")


async def test_outage_emits_one_fault_event_then_restored(tmp_path: Path) -> None:
    prober, sink, clock = FakeProber({url("c1"): BLACK}), RecordingSink(), Clock()
    monitor = monitor_for(make_config(tmp_path, "c1"), prober, sink, clock)
    for _ in range(4):
        clock.now += 60
        await monitor.probe_now("c1")
    assert [e.type for e in sink.events] == ["camera.fault"]
    event = sink.events[0]
    assert event.region == ("D", "T", "V")
    assert event.data["faults"][0]["kind"] == "black"
    assert monitor.snapshot("c1") is None  # only good frames are kept
    prober.scripts[url("c1")] = GOOD
    for _ in range(3):
        clock.now += 60
        await monitor.probe_now("c1")
    assert [e.type for e in sink.events] == ["camera.fault", "camera.restored"]


async def test_restart_continues_the_open_incident(tmp_path: Path) -> None:
    config = make_config(tmp_path, "c1")
    prober, first_sink, clock = FakeProber({url("c1"): BLACK}), RecordingSink(), Clock()
    first = monitor_for(config, prober, first_sink, clock)
    for _ in range(3):
        clock.now += 60
        await first.probe_now("c1")
    [fault] = first_sink.events
    assert fault.type == "camera.fault"

    sink = RecordingSink()  # a new process: nothing remembered in memory
    again = monitor_for(config, prober, sink, clock)
    await again.load()
    view = again.camera("c1")
    assert view is not None
    assert view.phase is Phase.FAULTY
    for _ in range(3):
        clock.now += 60
        await again.probe_now("c1")
    assert sink.events == []
    prober.scripts[url("c1")] = GOOD
    for _ in range(3):
        clock.now += 60
        await again.probe_now("c1")
    [restored] = sink.events
    assert restored.type == "camera.restored"
    assert restored.event_id == fault.event_id.replace(":fault", ":restored")
    assert restored.data["started_at"] == fault.data["started_at"]


async def test_corrupt_saved_state_starts_fresh(tmp_path: Path) -> None:
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / "c1.json").write_text("{half a file")
    sink, clock = RecordingSink(), Clock()
    monitor = monitor_for(make_config(tmp_path, "c1"), FakeProber({url("c1"): BLACK}), sink, clock)
    await monitor.load()
    view = monitor.camera("c1")
    assert view is not None
    assert view.phase is Phase.UNKNOWN
    for _ in range(2):
        clock.now += 60
        await monitor.probe_now("c1")
    assert [e.type for e in sink.events] == ["camera.fault"]


async def test_failed_emit_keeps_state_and_retries_same_event(tmp_path: Path) -> None:
    prober, sink, clock = FakeProber({url("c1"): BLACK}), RecordingSink(), Clock()
    monitor = monitor_for(make_config(tmp_path, "c1"), prober, sink, clock)
    clock.now += 60
    await monitor.probe_now("c1")
    sink.fail = True
    clock.now += 60
    with pytest.raises(OSError, match="store unavailable"):
        await monitor.probe_now("c1")
    view = monitor.camera("c1")
    assert view is not None
    assert view.phase is Phase.SUSPECT
    clock.now += 60
    await monitor.probe_now("c1")
    assert [e.event_id for e in sink.events] == ["camera:c1:1060000:fault"]


async def test_baseline_is_learned_persisted_and_reloaded(tmp_path: Path) -> None:
    config = make_config(tmp_path, "c1")
    prober, clock = FakeProber({url("c1"): GOOD}), Clock()
    monitor = monitor_for(config, prober, RecordingSink(), clock)
    await monitor.probe_now("c1")
    assert not monitor.cameras()[0].baseline_learned
    await monitor.probe_now("c1")
    assert monitor.cameras()[0].baseline_learned
    assert set(BaselineStore(tmp_path / "baselines").load_all()) == {"c1"}

    again = monitor_for(config, prober, RecordingSink(), clock)
    await again.load()
    assert again.cameras()[0].baseline_learned
    assert await again.relearn("c1")
    assert not again.cameras()[0].baseline_learned
    assert BaselineStore(tmp_path / "baselines").load_all() == {}


async def test_baseline_is_not_learned_from_faulty_probes(tmp_path: Path) -> None:
    monitor = monitor_for(
        make_config(tmp_path, "c1"), FakeProber({url("c1"): BLACK}), RecordingSink(), Clock()
    )
    for _ in range(3):
        await monitor.probe_now("c1")
    assert not monitor.cameras()[0].baseline_learned


async def test_maintenance_silences_events(tmp_path: Path) -> None:
    config = make_config(tmp_path, "c1", facility={"maintenance": ["00:00-24:00"]})
    sink, clock = RecordingSink(), Clock()
    monitor = monitor_for(config, FakeProber({url("c1"): BLACK}), sink, clock)
    for _ in range(4):
        clock.now += 60
        await monitor.probe_now("c1")
    view = monitor.camera("c1")
    assert view is not None
    assert view.phase is Phase.FAULTY
    assert view.maintenance
    assert sink.events == []


async def test_prober_failure_is_a_probe_error_fault(tmp_path: Path) -> None:
    def broken(request: ProbeRequest) -> ProbeReport:
        raise ProbeError("probe worker exited")

    monitor = monitor_for(
        make_config(tmp_path, "c1"), FakeProber({url("c1"): broken}), RecordingSink(), Clock()
    )
    view = await monitor.probe_now("c1")
    assert view is not None
    assert [f.kind for f in view.faults] == [FaultKind.PROBE_ERROR]


def test_plan_sweep_spreads_one_camera_per_slice() -> None:
    ids = [f"c{i}" for i in range(10)]
    plan = plan_sweep(ids, spread=50.0, rng=random.Random(1))
    assert sorted(camera for _, camera in plan) == sorted(ids)
    offsets = [offset for offset, _ in plan]
    assert offsets == sorted(offsets)
    assert all(i * 5.0 <= offset < (i + 1) * 5.0 for i, offset in enumerate(offsets))
    assert plan_sweep([], 10.0, random.Random(1)) == []


async def test_hung_camera_stalls_nobody_and_times_out(tmp_path: Path) -> None:
    config = make_config(tmp_path, "hung", "c1", "c2", concurrency=2)
    prober = FakeProber({url("c1"): GOOD, url("c2"): GOOD}, hang=[url("hung")])
    monitor = monitor_for(config, prober, RecordingSink(), Clock())
    before = sample("gateway_camera_sweep_duration_seconds_count", {})
    task = asyncio.create_task(monitor.run())

    def timed_out() -> bool:
        history = monitor.history("hung") or []
        return any(entry.outcome is ProbeOutcome.TIMEOUT for entry in history)

    await wait_until(lambda: timed_out() and prober.calls.count(url("c1")) >= 3, task)
    await stop(task)
    assert url("hung") in prober.cancelled
    assert prober.calls.count(url("c2")) >= 2
    assert sample("gateway_camera_sweep_duration_seconds_count", {}) > before


async def test_camera_still_probing_is_skipped_and_counted(tmp_path: Path) -> None:
    config = make_config(tmp_path, "hung", "c1", concurrency=2, probe_timeout_seconds=1.0)
    prober = FakeProber({url("c1"): GOOD}, hang=[url("hung")])
    monitor = monitor_for(config, prober, RecordingSink(), Clock())
    before = sample("gateway_camera_probes_skipped_total", {})
    task = asyncio.create_task(monitor.run())
    await wait_until(lambda: sample("gateway_camera_probes_skipped_total", {}) > before, task)
    await stop(task)
    assert prober.calls.count(url("hung")) == 1


async def test_dead_camera_is_probed_with_backoff(tmp_path: Path) -> None:
    health = {"min_fault_seconds": 0, "confirm_window": 1, "confirm_count": 1}
    config = make_config(tmp_path, "dead", "c1", jitter=0.0, health=health)
    prober = FakeProber({url("c1"): GOOD, url("dead"): REFUSED})
    monitor = monitor_for(config, prober, RecordingSink(), Clock())
    task = asyncio.create_task(monitor.run())
    await wait_until(lambda: prober.calls.count(url("c1")) >= 16, task)
    await stop(task)
    assert prober.calls.count(url("dead")) <= 7


async def test_disabled_monitor_returns_at_once(tmp_path: Path) -> None:
    config = make_config(tmp_path, "c1", enabled=False)
    monitor = monitor_for(config, FakeProber(), RecordingSink(), Clock())
    async with asyncio.timeout(1):
        await monitor.run()


async def test_probe_metrics(tmp_path: Path) -> None:
    monitor = monitor_for(
        make_config(tmp_path, "m1"), FakeProber({url("m1"): BLACK}), RecordingSink(), Clock()
    )
    probes = sample("gateway_camera_probes_total", {"outcome": "reachable"})
    faults = sample("gateway_camera_faults_total", {"kind": "black"})
    await monitor.probe_now("m1")
    assert sample("gateway_camera_probes_total", {"outcome": "reachable"}) == probes + 1
    assert sample("gateway_camera_faults_total", {"kind": "black"}) == faults + 1
    labels = {"camera": "m1", "facility": "fac-1"}
    assert sample("gateway_camera_state", {**labels, "state": "suspect"}) == 1
    assert sample("gateway_camera_state", {**labels, "state": "ok"}) == 0
    assert sample("gateway_camera_probe_duration_seconds_count", {}) >= 1


async def test_restart_keeps_faults_and_last_probe_time(tmp_path: Path) -> None:
    config = make_config(tmp_path, "c1")
    prober, clock = FakeProber({url("c1"): BLACK}), Clock()
    first = monitor_for(config, prober, RecordingSink(), clock)
    for _ in range(3):
        clock.now += 60
        await first.probe_now("c1")
    before = first.camera("c1")
    assert before is not None

    again = monitor_for(config, prober, RecordingSink(), clock)  # a new gateway process
    await again.load()
    view = again.camera("c1")
    assert view is not None
    assert [f.kind for f in view.faults] == [FaultKind.BLACK]
    assert view.last_probe_at == before.last_probe_at == 1_180.0
    assert view.fault_since == {"black": 1_060.0}
    assert view.to_json()["faults"][0]["since"] == 1_060.0


async def test_a_change_of_fault_kind_is_announced(tmp_path: Path) -> None:
    prober, sink, clock = FakeProber({url("c1"): FROZEN}), RecordingSink(), Clock()
    monitor = monitor_for(make_config(tmp_path, "c1"), prober, sink, clock)
    for _ in range(2):
        clock.now += 60
        await monitor.probe_now("c1")
    prober.scripts[url("c1")] = BLACK
    for _ in range(3):
        clock.now += 60
        await monitor.probe_now("c1")
    assert [e.type for e in sink.events] == ["camera.fault", "camera.fault_changed"]
    changed = sink.events[1]
    assert changed.data["previous_kinds"] == ["frozen"]
    assert changed.data["kinds"] == ["black"]
    assert changed.event_id == "camera:c1:1060000:changed:1"
    view = monitor.camera("c1")
    assert view is not None
    assert view.incident is not None
    assert view.incident.kinds == ("black",)


async def test_acknowledged_incident_survives_a_restart(tmp_path: Path) -> None:
    config = make_config(tmp_path, "c1")
    prober, clock = FakeProber({url("c1"): GOOD}), Clock()
    monitor = monitor_for(config, prober, RecordingSink(), clock)
    await monitor.probe_now("c1")
    assert await monitor.acknowledge("c1", "tech", "looking") is False  # nothing open
    assert await monitor.acknowledge("nope", "tech", "looking") is None
    prober.scripts[url("c1")] = BLACK
    for _ in range(2):
        clock.now += 60
        await monitor.probe_now("c1")
    assert await monitor.acknowledge("c1", "tech", "ladder on its way") is True
    again = monitor_for(config, prober, RecordingSink(), clock)
    await again.load()
    view = again.camera("c1")
    assert view is not None
    assert view.incident is not None
    assert view.incident.acknowledged is not None
    assert view.incident.acknowledged.reason == "ladder on its way"
    assert view.to_json()["incident"]["acknowledged"]["by"] == "tech"


async def test_snooze_holds_the_page_back_until_it_ends(tmp_path: Path) -> None:
    prober, sink, clock = FakeProber({url("c1"): GOOD}), RecordingSink(), Clock()
    monitor = monitor_for(make_config(tmp_path, "c1"), prober, sink, clock)
    await monitor.probe_now("c1")
    assert await monitor.snooze("c1", "tech", "cleaning the dome", 600)
    view = monitor.camera("c1")
    assert view is not None
    assert view.snooze is not None
    assert view.snooze.until == clock.now + 600
    prober.scripts[url("c1")] = BLACK
    for _ in range(4):
        clock.now += 60
        await monitor.probe_now("c1")
    assert sink.events == []
    clock.now += 600
    await monitor.probe_now("c1")
    assert [e.type for e in sink.events] == ["camera.fault"]
    assert not await monitor.snooze("nope", "tech", "x", 60)


async def test_current_picture_is_kept_beside_the_last_good_one(tmp_path: Path) -> None:
    prober = FakeProber({url("c1"): GOOD})
    monitor = monitor_for(make_config(tmp_path, "c1"), prober, RecordingSink(), Clock())
    await monitor.probe_now("c1")
    prober.scripts[url("c1")] = BLACK
    view = await monitor.probe_now("c1")
    assert view is not None
    assert monitor.snapshot("c1") == GOOD.snapshot
    assert monitor.current("c1") == BLACK.snapshot
    assert view.snapshot_url == "/api/v1/cameras/c1/snapshot.jpg"
    assert view.current_url == "/api/v1/cameras/c1/current.jpg"
    assert view.current_at is not None
    assert monitor.current("nope") is None


async def test_too_dark_is_shown_but_neither_pages_nor_teaches(tmp_path: Path) -> None:
    prober, sink, clock = FakeProber({url("c1"): DARK}), RecordingSink(), Clock()
    config = make_config(tmp_path, "c1", timezone="UTC")  # 1970-01-01 00:16: night
    monitor = monitor_for(config, prober, sink, clock)
    for _ in range(4):
        clock.now += 60
        view = await monitor.probe_now("c1")
    assert view is not None
    assert view.phase is Phase.OK
    assert [notice.kind for notice in view.notices] == [FaultKind.TOO_DARK]
    assert view.baseline_modes == ()
    assert sink.events == []


async def test_a_dark_live_picture_in_daylight_hours_is_black(tmp_path: Path) -> None:
    prober, sink, clock = FakeProber({url("c1"): DARK}), RecordingSink(), Clock()
    clock.now = 10 * 3600.0  # 10:00 UTC: a capped lens, not an unlit corridor
    config = make_config(tmp_path, "c1", timezone="UTC")
    monitor = monitor_for(config, prober, sink, clock)
    for _ in range(2):
        clock.now += 60
        view = await monitor.probe_now("c1")
    assert view is not None
    assert [fault.kind for fault in view.faults] == [FaultKind.BLACK]
    assert [e.type for e in sink.events] == ["camera.fault"]
