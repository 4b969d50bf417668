"""The camera health state machine: examples, then invariants over random probe sequences."""

from __future__ import annotations

import math
from collections.abc import Iterable

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.cameras.config import HealthPolicy
from gateway.cameras.faults import Fault, FaultKind
from gateway.cameras.health import (
    CameraIdentity,
    CameraState,
    Note,
    Phase,
    ProbeResult,
    acknowledge,
    snooze,
    snoozed,
    step,
)
from gateway.core.events import Event, Priority

POLICY = HealthPolicy(
    confirm_window=5,
    confirm_count=3,
    min_fault_seconds=120,
    restore_count=3,
    restore_hold_seconds=300,
)
IDENTITY = CameraIdentity("cam-7", "fac-2", ("District", "Town", "Village"))
BLACK = (Fault(FaultKind.BLACK, "mean_luma", 1.0, 24.0),)
GOOD = ProbeResult()
BAD = ProbeResult(BLACK)


def start(policy: HealthPolicy = POLICY) -> CameraState:
    return CameraState(IDENTITY, policy)


def run(
    probes: Iterable[tuple[float, ProbeResult]], state: CameraState | None = None
) -> tuple[CameraState, list[tuple[float, Event]]]:
    """Feed (time, probe) pairs; return the final state and (time, event) pairs."""
    state = state or start()
    emitted: list[tuple[float, Event]] = []
    for now, probe in probes:
        state, events = step(state, probe, now)
        emitted += [(now, event) for event in events]
    return state, emitted


def every(
    seconds: float, probes: list[ProbeResult], t0: float = 0.0
) -> list[tuple[float, ProbeResult]]:
    return [(t0 + i * seconds, p) for i, p in enumerate(probes)]


def test_first_healthy_probe_is_ok() -> None:
    state, events = step(start(), GOOD, 10.0)
    assert (state.phase, events) == (Phase.OK, [])


def test_a_blip_pages_nobody_and_clears() -> None:
    state, events = run(every(60, [GOOD, BAD] + [GOOD] * 5))
    assert events == []
    assert state.phase is Phase.OK


def test_outage_is_confirmed_after_n_probes_and_min_duration() -> None:
    state, events = run(every(30, [GOOD] + [BAD] * 5))
    # bad at 30, 60, 90, 120, 150: three bad by 90 but only 90 s long; 150 - 30 >= 120
    assert [(t, e.type) for t, e in events] == [(150.0, "camera.fault")]
    assert state.phase is Phase.FAULTY


def test_fault_event_content() -> None:
    _, events = run(every(60, [GOOD] + [BAD] * 3))
    (_, event) = events[0]
    assert event.event_id == "camera:cam-7:60000:fault"
    assert event.type == "camera.fault"
    assert event.priority is Priority.SUPERVISION
    assert event.region == ("District", "Town", "Village")
    assert event.occurred_at == 60.0
    assert event.data["camera"] == "cam-7"
    assert event.data["facility"] == "fac-2"
    assert event.data["state"] == "faulty"
    assert event.data["faults"] == [f.to_json() for f in BLACK]


def test_event_ids_are_deterministic() -> None:
    probes = every(60, [GOOD] + [BAD] * 3 + [GOOD] * 8)
    assert [e.event_id for _, e in run(probes)[1]] == [e.event_id for _, e in run(probes)[1]]


def test_restored_after_count_and_hold() -> None:
    state, events = run(every(60, [GOOD] + [BAD] * 3 + [GOOD] * 7))
    assert [(t, e.type) for t, e in events] == [(180.0, "camera.fault"), (540.0, "camera.restored")]
    restored = events[1][1]
    assert restored.event_id == "camera:cam-7:60000:restored"
    assert restored.data["duration_seconds"] == 480.0
    assert state.phase is Phase.OK
    assert state.incident is None


def test_flapping_camera_is_one_incident() -> None:
    flaps = [BAD, BAD, GOOD, GOOD, BAD, GOOD, BAD, GOOD, GOOD, BAD]
    state, events = run(every(60, [GOOD] + [BAD] * 3 + flaps * 3 + [GOOD] * 8))
    assert [e.type for _, e in events] == ["camera.fault", "camera.restored"]
    assert events[1][1].data["relapses"] == 9
    assert state.phase is Phase.OK


def test_intermittent_fault_still_pages() -> None:
    _, events = run(every(60, [GOOD] + [BAD, GOOD] * 6))
    assert [e.type for _, e in events] == ["camera.fault"]


def test_maintenance_silences_but_tracks_and_announces_after() -> None:
    quiet = ProbeResult(BLACK, maintenance=True)
    state, events = run(every(60, [GOOD] + [quiet] * 4))
    assert events == []
    assert state.phase is Phase.FAULTY
    state, events = run([(300.0, BAD)], state)
    assert [e.type for _, e in events] == ["camera.fault"]
    assert events[0][1].event_id == "camera:cam-7:60000:fault"


def test_incident_inside_maintenance_stays_silent() -> None:
    quiet_bad = ProbeResult(BLACK, maintenance=True)
    quiet_good = ProbeResult(maintenance=True)
    state, events = run(every(60, [GOOD] + [quiet_bad] * 4 + [quiet_good] * 6 + [GOOD] * 2))
    assert events == []
    assert state.phase is Phase.OK


def test_announced_incident_closes_only_outside_maintenance() -> None:
    quiet_good = ProbeResult(maintenance=True)
    state, events = run(every(60, [GOOD] + [BAD] * 3 + [quiet_good] * 8))
    assert [e.type for _, e in events] == ["camera.fault"]
    assert state.phase is Phase.RESTORED
    state, events = run([(800.0, GOOD)], state)
    assert [e.type for _, e in events] == ["camera.restored"]


FROZEN = ProbeResult((Fault(FaultKind.FROZEN, "motion", 0.0, 0.05),))


def test_fault_kind_change_is_announced_once_it_holds() -> None:
    state, events = run(every(60, [GOOD] + [FROZEN] * 3 + [BAD] * 5))
    assert [(t, e.type) for t, e in events] == [
        (180.0, "camera.fault"),
        (360.0, "camera.fault_changed"),  # black on the 3rd probe in a row (confirm_count)
    ]
    changed = events[1][1]
    assert changed.event_id == "camera:cam-7:60000:changed:1"
    assert changed.priority is Priority.SUPERVISION
    assert changed.region == IDENTITY.region
    assert changed.data["previous_kinds"] == ["frozen"]
    assert changed.data["kinds"] == ["black"]
    assert changed.data["faults"] == [f.to_json() for f in BLACK]
    assert changed.data["started_at"] == 60.0
    assert changed.data["since"] == 240.0
    assert state.incident is not None
    assert state.incident.kinds == ("black",)
    assert state.incident.changes == 1


def test_a_brief_other_kind_is_no_change() -> None:
    _, events = run(every(60, [GOOD] + [FROZEN] * 3 + [BAD, BAD, FROZEN, BAD] + [FROZEN] * 3))
    assert [e.type for _, e in events] == ["camera.fault"]


def test_each_change_has_its_own_event_and_restored_still_follows() -> None:
    probes = [GOOD] + [FROZEN] * 3 + [BAD] * 3 + [FROZEN] * 3 + [GOOD] * 7
    _, events = run(every(60, probes))
    assert [e.event_id for _, e in events] == [
        "camera:cam-7:60000:fault",
        "camera:cam-7:60000:changed:1",
        "camera:cam-7:60000:changed:2",
        "camera:cam-7:60000:restored",
    ]


def test_change_inside_maintenance_is_announced_after_it() -> None:
    quiet_black = ProbeResult(BLACK, maintenance=True)
    state, events = run(every(60, [GOOD] + [FROZEN] * 3 + [quiet_black] * 4))
    assert [e.type for _, e in events] == ["camera.fault"]
    _, events = run([(500.0, BAD)], state)
    assert [e.type for _, e in events] == ["camera.fault_changed"]


def test_fault_since_follows_each_kind() -> None:
    both = ProbeResult((*BLACK, Fault(FaultKind.LOW_FPS, "fps", 2.0, 5.0)))
    state, _ = run(every(60, [GOOD, BAD, BAD, both, both]))
    assert state.since_of("black") == 60.0
    assert state.since_of("low_fps") == 180.0
    state, _ = run([(300.0, FROZEN), (360.0, BAD)], state)
    assert state.since_of("black") == 360.0  # it went away, so it starts again
    assert state.since_of("low_fps") is None


def test_acknowledge_needs_an_open_incident_and_stays_with_it() -> None:
    assert acknowledge(start(), "tech", "on my way", 10.0) is None
    state, _ = run(every(60, [GOOD] + [BAD] * 3))
    acked = acknowledge(state, "tech", "on my way", 200.0)
    assert acked is not None
    assert acked.incident is not None
    assert acked.incident.acknowledged == Note("tech", 200.0, "on my way")
    state, _ = run(every(60, [BAD] * 2, t0=240.0), acked)
    assert state.incident is not None
    assert state.incident.acknowledged == Note("tech", 200.0, "on my way")
    state, _ = run(every(60, [GOOD] * 8, t0=400.0), state)
    assert state.incident is None


def test_snooze_holds_events_back_until_it_ends() -> None:
    state = snooze(start(), "tech", "replacing the lens", until=600.0, now=0.0)
    assert snoozed(state, 599.0)
    assert not snoozed(state, 600.0)
    assert snooze(state, "tech", "done", until=0.0, now=10.0).snooze is None


def test_window_of_one_confirms_on_duration_alone() -> None:
    policy = HealthPolicy(confirm_window=1, confirm_count=1, min_fault_seconds=0)
    state, events = run(every(60, [BAD]), start(policy))
    assert state.phase is Phase.FAULTY
    assert [e.type for _, e in events] == ["camera.fault"]


# Invariants.


@st.composite
def policies(draw: st.DrawFn) -> HealthPolicy:
    window = draw(st.integers(1, 6))
    return HealthPolicy(
        confirm_window=window,
        confirm_count=draw(st.integers(1, window)),
        min_fault_seconds=draw(st.sampled_from([0, 30, 120, 300])),
        restore_count=draw(st.integers(1, 4)),
        restore_hold_seconds=draw(st.sampled_from([0, 60, 300])),
    )


steps = st.lists(
    st.tuples(st.integers(1, 120), st.integers(0, 2), st.booleans()), min_size=1, max_size=80
)
KINDS = ((), BLACK, FROZEN.faults)


def timeline(raw: list[tuple[int, int, bool]]) -> list[tuple[float, ProbeResult]]:
    """(gap, 0 healthy / 1 black / 2 frozen, maintenance) as timed probes."""
    now = 0.0
    out = []
    for gap, kind, maintenance in raw:
        now += gap
        out.append((now, ProbeResult(KINDS[kind], maintenance)))
    return out


@settings(max_examples=300, deadline=None)
@given(policy=policies(), raw=steps)
def test_events_alternate_and_never_repeat(
    policy: HealthPolicy, raw: list[tuple[int, int, bool]]
) -> None:
    state = start(policy)
    open_incident: str | None = None
    seen: set[str] = set()
    for now, probe in timeline(raw):
        state, events = step(state, probe, now)
        if probe.maintenance:
            assert events == []
        for event in events:
            assert event.event_id not in seen
            seen.add(event.event_id)
            key, _, kind = event.event_id.rpartition(":")
            if event.type == "camera.fault":
                assert open_incident is None, "two fault events for one incident"
                assert kind == "fault"
                open_incident = key
            elif event.type == "camera.fault_changed":
                assert open_incident is not None
                assert event.event_id.startswith(open_incident + ":changed:")
                assert event.data["kinds"] != event.data["previous_kinds"]
            else:
                assert event.type == "camera.restored"
                assert open_incident == key
                open_incident = None
        announced = state.incident is not None and state.incident.announced
        assert announced == (open_incident is not None)


@settings(max_examples=300, deadline=None)
@given(policy=policies(), raw=steps)
def test_every_long_outage_is_announced(
    policy: HealthPolicy, raw: list[tuple[int, int, bool]]
) -> None:
    state = start(policy)
    run_start: float | None = None
    run_length = 0
    for now, probe in timeline([(gap, kind, False) for gap, kind, _ in raw]):
        state, _ = step(state, probe, now)
        if probe.healthy:
            run_start, run_length = None, 0
            continue
        run_start = now if run_start is None else run_start
        run_length += 1
        if run_length >= policy.confirm_count and now - run_start >= policy.min_fault_seconds:
            assert state.phase is Phase.FAULTY
            assert state.incident is not None
            assert state.incident.announced


@settings(max_examples=200, deadline=None)
@given(
    policy=policies(),
    outages=st.lists(st.integers(0, 10), min_size=1, max_size=5),
    gap=st.integers(10, 120),
)
def test_each_real_outage_yields_exactly_one_fault(
    policy: HealthPolicy, outages: list[int], gap: int
) -> None:
    confirm_probes = max(policy.confirm_count, math.ceil(policy.min_fault_seconds / gap) + 1)
    clear_probes = max(
        policy.confirm_window, policy.restore_count, int(policy.restore_hold_seconds // gap) + 2
    )
    probes: list[ProbeResult] = [GOOD]
    for extra in outages:
        probes += [BAD] * (confirm_probes + extra) + [GOOD] * clear_probes
    _, events = run(every(gap, probes), start(policy))
    types = [e.type for _, e in events]
    assert types == ["camera.fault", "camera.restored"] * len(outages)


@settings(max_examples=200, deadline=None)
@given(policy=policies(), blips=st.lists(st.integers(1, 6), min_size=1, max_size=6))
def test_short_blips_page_nobody(policy: HealthPolicy, blips: list[int]) -> None:
    probes: list[ProbeResult] = [GOOD]
    for length in blips:
        probes += [BAD] * min(length, policy.confirm_count - 1) + [GOOD] * policy.confirm_window
    _, events = run(every(60, probes), start(policy))
    assert events == []
