"""Read-only views of the monitor for the API: one camera, one probe of its history."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.cameras.faults import Fault
from gateway.cameras.health import Incident, Phase
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
    baseline_learned: bool = False
    has_snapshot: bool = False

    @property
    def snapshot_url(self) -> str | None:
        """Where the API serves the latest good frame, if there is one."""
        return f"/api/v1/cameras/{self.camera_id}/snapshot.jpg" if self.has_snapshot else None

    def to_json(self) -> dict[str, Any]:
        """API form."""
        incident = self.incident
        return {
            "id": self.camera_id,
            "name": self.name,
            "facility": {"id": self.facility_id, "name": self.facility_name},
            "region": list(self.region),
            "state": self.phase.value,
            "faults": [f.to_json() for f in self.faults],
            "last_probe_at": self.last_probe_at,
            "outcome": None if self.outcome is None else self.outcome.value,
            "measures": self.measures,
            "stream": self.stream,
            "incident": None
            if incident is None
            else {
                "started_at": incident.started_at,
                "announced": incident.announced,
                "relapses": incident.relapses,
            },
            "maintenance": self.maintenance,
            "baseline_learned": self.baseline_learned,
            "snapshot_url": self.snapshot_url,
        }
