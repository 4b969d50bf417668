"""Per-camera health state machine: probes in, incidents and events out. Pure.

::

    unknown/ok --faulty probe--> suspect --N of last M faulty, for min_fault_seconds--> faulty
    suspect --no faulty probe among the last M--> ok
    faulty --healthy probe--> restored --faulty probe (a relapse, silent)--> faulty
    restored --restore_count healthy probes over restore_hold_seconds--> ok

An incident opens when a camera becomes faulty and closes when it returns to ok; it emits
one ``camera.fault`` (when it opens) and one ``camera.restored`` (when it closes). A relapse
during the ``restored`` probation is the same incident, so a flapping camera pages once.
When the kinds of fault of an announced incident change and the new kinds hold for
``confirm_count`` faulty probes in a row (frozen, then black), one ``camera.fault_changed``
tells the command center what the camera shows now.
Inside a maintenance window the state is tracked but nothing is emitted: an incident that
is still open when the window ends is announced then, and an announced incident closes
only outside a window, so every ``camera.fault`` is eventually matched by one
``camera.restored``. Event ids derive from the camera and the incident's start time, so
retrying an emission is idempotent.

:func:`state_to_dict` / :func:`state_from_dict` carry the part of a state that must outlive
a gateway restart, so an open incident keeps its id and is closed exactly once, and the
camera's last faults, when each began and when it was last probed are on the wall at
once, not after the next probe.

A technician can :func:`acknowledge` an open incident (who, when, why: it stays with the
incident until it closes) or :func:`snooze` a camera for a while (its events are then
held back as in a maintenance window; see :func:`snoozed`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Any

from pydantic import TypeAdapter

from gateway.cameras.config import HealthPolicy
from gateway.cameras.faults import Fault
from gateway.core.events import Event, Priority


class Phase(enum.StrEnum):
    """Where a camera stands."""

    UNKNOWN = "unknown"
    OK = "ok"
    SUSPECT = "suspect"
    FAULTY = "faulty"
    RESTORED = "restored"


@dataclass(frozen=True, slots=True)
class CameraIdentity:
    """Who the events are about."""

    camera_id: str
    facility_id: str
    region: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Note:
    """Who did something to an incident or a camera, when and why."""

    by: str
    at: float
    reason: str


@dataclass(frozen=True, slots=True)
class Snooze:
    """A camera's events held back until ``until``."""

    by: str
    at: float
    until: float
    reason: str


@dataclass(frozen=True, slots=True)
class Incident:
    """An outage from its first faulty probe until the camera is ok again.

    ``kinds``: the fault kinds last announced; ``pending``/``pending_count``: a different
    set of kinds and the faulty probes in a row that showed it; ``changes``: how many
    kind changes were announced.
    """

    started_at: float
    announced: bool = False
    relapses: int = 0
    kinds: tuple[str, ...] = ()
    changes: int = 0
    pending: tuple[str, ...] = ()
    pending_count: int = 0
    acknowledged: Note | None = None


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """A judged probe: its faults (none = healthy) and whether maintenance is on."""

    faults: tuple[Fault, ...] = ()
    maintenance: bool = False

    @property
    def healthy(self) -> bool:
        """No fault found."""
        return not self.faults


@dataclass(frozen=True, slots=True)
class CameraState:
    """Everything :func:`step` needs to judge the next probe of one camera."""

    identity: CameraIdentity
    policy: HealthPolicy
    phase: Phase = Phase.UNKNOWN
    since: float = 0.0
    window: tuple[bool, ...] = ()
    healthy_streak: int = 0
    incident: Incident | None = None
    faults: tuple[Fault, ...] = ()
    last_probe_at: float | None = None
    fault_since: tuple[tuple[str, float], ...] = ()
    snooze: Snooze | None = None

    def since_of(self, kind: str) -> float | None:
        """When the current run of fault ``kind`` began."""
        return dict(self.fault_since).get(kind)


@dataclass(frozen=True, slots=True)
class _Saved:
    """What :func:`step` needs to continue a camera after a restart, and what the wall
    shows of it. Identity and policy come from the configuration. (Files written before
    faults and probe times were kept load with those blank.)"""

    phase: Phase
    since: float
    window: tuple[bool, ...]
    healthy_streak: int
    incident: Incident | None
    faults: tuple[Fault, ...] = ()
    last_probe_at: float | None = None
    fault_since: tuple[tuple[str, float], ...] = ()
    snooze: Snooze | None = None


_SAVED = TypeAdapter(_Saved)


def state_to_dict(state: CameraState) -> dict[str, Any]:
    """The restart-surviving part of ``state`` as JSON-ready data."""
    saved = _Saved(
        state.phase, state.since, state.window, state.healthy_streak, state.incident,
        state.faults, state.last_probe_at, state.fault_since, state.snooze,
    )  # fmt: skip
    return _SAVED.dump_python(saved, mode="json")  # type: ignore[no-any-return]


def state_from_dict(fresh: CameraState, data: object) -> CameraState:
    """``fresh`` continued from :func:`state_to_dict` data; ``ValueError`` if malformed."""
    saved = _SAVED.validate_python(data)
    if saved.phase in (Phase.FAULTY, Phase.RESTORED) and saved.incident is None:
        raise ValueError(f"phase {saved.phase} without an open incident")
    return replace(
        fresh,
        phase=saved.phase,
        since=saved.since,
        window=saved.window,
        healthy_streak=saved.healthy_streak,
        incident=saved.incident,
        faults=saved.faults,
        last_probe_at=saved.last_probe_at,
        fault_since=saved.fault_since,
        snooze=saved.snooze,
    )


def step(state: CameraState, probe: ProbeResult, now: float) -> tuple[CameraState, list[Event]]:
    """Advance one camera by one probe taken at ``now`` (Unix seconds)."""
    window = (*state.window, not probe.healthy)[-state.policy.confirm_window :]
    since = _runs(state.fault_since, probe.faults, now)
    state = replace(state, window=window, faults=probe.faults, last_probe_at=now, fault_since=since)
    if state.phase in (Phase.UNKNOWN, Phase.OK):
        state = _from_ok(state, probe, now)
    elif state.phase is Phase.SUSPECT:
        state = _from_suspect(state, probe, now)
    elif state.phase is Phase.FAULTY and probe.healthy:
        state = replace(state, phase=Phase.RESTORED, since=now, healthy_streak=0)
    if state.phase is Phase.RESTORED:
        state, closed = _from_restored(state, probe, now)
        if closed is not None and closed.announced:
            return state, [_restored_event(state, closed, now)]
    state, events = _announce(state, probe, now)
    if events:
        return state, events
    return _follow_kinds(state, probe, now)


def acknowledge(state: CameraState, by: str, reason: str, now: float) -> CameraState | None:
    """``state`` with its open incident acknowledged; ``None`` if no incident is open."""
    if state.incident is None:
        return None
    return replace(state, incident=replace(state.incident, acknowledged=Note(by, now, reason)))


def snooze(state: CameraState, by: str, reason: str, until: float, now: float) -> CameraState:
    """``state`` with its events held back until ``until`` (``until <= now`` ends a snooze)."""
    return replace(state, snooze=Snooze(by, now, until, reason) if until > now else None)


def snoozed(state: CameraState, now: float) -> bool:
    """Whether the camera's events are held back at ``now``: the scheduler then treats
    the probe as taken in a maintenance window, so an incident is tracked, announced
    when the snooze ends if still open, and closes only after it."""
    return state.snooze is not None and now < state.snooze.until


def kinds_of(faults: tuple[Fault, ...]) -> tuple[str, ...]:
    """The distinct kinds of ``faults``, sorted."""
    return tuple(sorted({fault.kind.value for fault in faults}))


def _runs(
    known: tuple[tuple[str, float], ...], faults: tuple[Fault, ...], now: float
) -> tuple[tuple[str, float], ...]:
    """When each current fault kind's run of probes began (a kind that went away starts
    again when it comes back)."""
    began = dict(known)
    return tuple((kind, began.get(kind, now)) for kind in kinds_of(faults))


def _follow_kinds(
    state: CameraState, probe: ProbeResult, now: float
) -> tuple[CameraState, list[Event]]:
    incident = state.incident
    if state.phase is not Phase.FAULTY or incident is None or not incident.announced:
        return state, []
    kinds = kinds_of(probe.faults)
    if kinds == incident.kinds:
        return replace(state, incident=replace(incident, pending=(), pending_count=0)), []
    count = incident.pending_count + 1 if kinds == incident.pending else 1
    incident = replace(incident, pending=kinds, pending_count=count)
    if count < state.policy.confirm_count or probe.maintenance:
        return replace(state, incident=incident), []
    changed = replace(
        incident, kinds=kinds, changes=incident.changes + 1, pending=(), pending_count=0
    )
    state = replace(state, incident=changed)
    return state, [_changed_event(state, changed, incident.kinds, now)]


def _from_ok(state: CameraState, probe: ProbeResult, now: float) -> CameraState:
    if probe.healthy:
        return state if state.phase is Phase.OK else replace(state, phase=Phase.OK, since=now)
    return _from_suspect(replace(state, phase=Phase.SUSPECT, since=now), probe, now)


def _from_suspect(state: CameraState, probe: ProbeResult, now: float) -> CameraState:
    policy = state.policy
    if not any(state.window):
        return replace(state, phase=Phase.OK, since=now)
    confirmed = (
        not probe.healthy
        and sum(state.window) >= policy.confirm_count
        and now - state.since >= policy.min_fault_seconds
    )
    if not confirmed:
        return state
    return replace(state, phase=Phase.FAULTY, incident=Incident(started_at=state.since))


def _from_restored(
    state: CameraState, probe: ProbeResult, now: float
) -> tuple[CameraState, Incident | None]:
    incident = state.incident
    assert incident is not None  # restored always belongs to an open incident
    if not probe.healthy:
        relapsed = replace(incident, relapses=incident.relapses + 1)
        return replace(state, phase=Phase.FAULTY, incident=relapsed, healthy_streak=0), None
    state = replace(state, healthy_streak=state.healthy_streak + 1)
    policy = state.policy
    done = (
        state.healthy_streak >= policy.restore_count
        and now - state.since >= policy.restore_hold_seconds
        and not (incident.announced and probe.maintenance)
    )
    if not done:
        return state, None
    return replace(state, phase=Phase.OK, since=now, incident=None, healthy_streak=0), incident


def _announce(
    state: CameraState, probe: ProbeResult, now: float
) -> tuple[CameraState, list[Event]]:
    incident = state.incident
    if state.phase is not Phase.FAULTY or incident is None or incident.announced:
        return state, []
    if probe.maintenance:
        return state, []
    kinds = kinds_of(state.faults)
    announced = replace(state, incident=replace(incident, announced=True, kinds=kinds))
    return announced, [_fault_event(announced, incident, now)]


def incident_key(identity: CameraIdentity, incident: Incident) -> str:
    """Stable id of an incident: camera plus start time in milliseconds."""
    return f"camera:{identity.camera_id}:{round(incident.started_at * 1000)}"


def _event(
    state: CameraState, incident: Incident, suffix: str, kind: str, at: float, **data: Any
) -> Event:
    """One event about ``incident``: id ``<incident key>:<suffix>``, type ``camera.<kind>``."""
    ident = state.identity
    return Event(
        event_id=f"{incident_key(ident, incident)}:{suffix}",
        type=f"camera.{kind}",
        priority=Priority.SUPERVISION,
        occurred_at=at,
        source=f"camera:{ident.camera_id}",
        region=ident.region,
        data={
            "camera": ident.camera_id,
            "facility": ident.facility_id,
            "state": state.phase.value,
            "started_at": incident.started_at,
            **data,
        },
    )


def _fault_event(state: CameraState, incident: Incident, now: float) -> Event:
    faults = [fault.to_json() for fault in state.faults]
    return _event(
        state, incident, "fault", "fault", incident.started_at, faults=faults, confirmed_at=now
    )


def _changed_event(
    state: CameraState, incident: Incident, previous: tuple[str, ...], now: float
) -> Event:
    since = min((state.since_of(kind) or now for kind in incident.kinds), default=now)
    return _event(
        state, incident, f"changed:{incident.changes}", "fault_changed", now,
        faults=[fault.to_json() for fault in state.faults], kinds=list(incident.kinds),
        previous_kinds=list(previous), since=since, changed_at=now,
    )  # fmt: skip


def _restored_event(state: CameraState, incident: Incident, now: float) -> Event:
    return _event(
        state, incident, "restored", "restored", now,
        duration_seconds=round(now - incident.started_at, 3), relapses=incident.relapses,
    )  # fmt: skip
