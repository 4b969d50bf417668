"""Read-only views of the monitor for the API: one camera, one probe of its history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.cameras.faults import Fault
from gateway.cameras.health import Incident, Note, Phase, Snooze
from gateway.cameras.probe import ProbeOutcome


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One probe as kept in a camera's ring buffer."""

    at: float
    outcome: ProbeOutcome
    phase: Phase
    faults: tuple[Fault, ...]
    duration_seconds: float
    fps: float | None = None
    maintenance: bool = False

    def to_json(self) -> dict[str, Any]:
        """API form."""
        return {
            "at": self.at,
            "outcome": self.outcome.value,
            "state": self.phase.value,
            "faults": [f.to_json() for f in self.faults],
            "duration_seconds": round(self.duration_seconds, 3),
            "fps": self.fps,
            "maintenance": self.maintenance,
        }


@dataclass(frozen=True, slots=True)
class CameraView:
    """A camera as the API shows it."""

    camera_id: str
    name: str
    facility_id: str
    facility_name: str
    region: tuple[str, ...]
    phase: Phase
    faults: tuple[Fault, ...] = ()
    last_probe_at: float | None = None
    outcome: ProbeOutcome | None = None
    measures: dict[str, float | None] = field(default_factory=dict)
    stream: dict[str, float | int | None] = field(default_factory=dict)
    incident: Incident | None = None
    maintenance: bool = False
    baseline_modes: tuple[str, ...] = ()
    has_snapshot: bool = False
    mode: str | None = None
    notices: tuple[Fault, ...] = ()
    fault_since: dict[str, float] = field(default_factory=dict)
    snooze: Snooze | None = None
    snapshot_at: float | None = None
    has_current: bool = False
    current_at: float | None = None

    @property
    def baseline_learned(self) -> bool:
        """Whether a baseline exists for the mode the camera showed last (or any, before
        its first picture)."""
        if self.mode is None:
            return bool(self.baseline_modes)
        return self.mode in self.baseline_modes

    @property
    def snapshot_url(self) -> str | None:
        """Where the API serves the latest good frame, if there is one."""
        return f"/api/v1/cameras/{self.camera_id}/snapshot.jpg" if self.has_snapshot else None

    @property
    def current_url(self) -> str | None:
        """Where the API serves the frame of the latest probe, if it decoded one."""
        return f"/api/v1/cameras/{self.camera_id}/current.jpg" if self.has_current else None

    def to_json(self) -> dict[str, Any]:
        """API form."""
        return {
            "id": self.camera_id,
            "name": self.name,
            "facility": {"id": self.facility_id, "name": self.facility_name},
            "region": list(self.region),
            "state": self.phase.value,
            "mode": self.mode,
            "faults": [
                {**f.to_json(), "since": self.fault_since.get(f.kind.value)} for f in self.faults
            ],
            "notices": [f.to_json() for f in self.notices],
            "last_probe_at": self.last_probe_at,
            "outcome": None if self.outcome is None else self.outcome.value,
            "measures": self.measures,
            "stream": self.stream,
            "incident": _incident(self.incident),
            "maintenance": self.maintenance,
            "snooze": None if self.snooze is None else _snooze(self.snooze),
            "baseline_learned": self.baseline_learned,
            "baseline_modes": list(self.baseline_modes),
            "snapshot_url": self.snapshot_url,
            "snapshot_at": self.snapshot_at,
            "current_url": self.current_url,
            "current_at": self.current_at,
        }


def _incident(incident: Incident | None) -> dict[str, Any] | None:
    if incident is None:
        return None
    return {
        "started_at": incident.started_at,
        "announced": incident.announced,
        "relapses": incident.relapses,
        "kinds": list(incident.kinds),
        "changes": incident.changes,
        "acknowledged": None if incident.acknowledged is None else _note(incident.acknowledged),
    }


def _note(note: Note) -> dict[str, Any]:
    return {"by": note.by, "at": note.at, "reason": note.reason}


def _snooze(snooze: Snooze) -> dict[str, Any]:
    return {"by": snooze.by, "at": snooze.at, "until": snooze.until, "reason": snooze.reason}
