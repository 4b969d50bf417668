"""What the camera wall needs from the camera health monitor, and how it filters it.

The monitor (``gateway.cameras``) keeps a view of every camera; the console reads it
through the small :class:`CameraViews` protocol, so the wall is tested with a fake. A
view is a mapping with (at least) the keys of :class:`CameraView`; faults are mappings
with a ``kind`` (as ``Fault.to_json()`` writes them) or bare kind strings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TypedDict

from gateway.http.auth import in_scope


class CameraView(TypedDict, total=False):
    """The keys the wall reads from one camera's view."""

    id: str
    name: str
    facility: str
    facility_name: str
    region: list[str]
    state: str  # unknown / ok / suspect / faulty / restored
    faults: list[Any]
    last_probe_at: float | None
    snapshot_url: str | None


class CameraViews(Protocol):
    """The monitor's read side."""

    def views(self) -> Sequence[Mapping[str, Any]]:
        """Every camera's current view."""
        ...

    def history(self, camera_id: str) -> Sequence[Mapping[str, Any]] | None:
        """Recent probes of one camera, newest last; ``None`` for an unknown camera."""
        ...


class _Json(Protocol):
    def to_json(self) -> dict[str, Any]: ...


class CameraSource(Protocol):
    """The read side of :class:`gateway.cameras.scheduler.CameraMonitor`."""

    def cameras(self) -> Sequence[_Json]: ...

    def history(self, camera_id: str) -> Sequence[_Json] | None: ...


class MonitorViews:
    """:class:`CameraViews` over the camera monitor (its API documents, flattened)."""

    def __init__(self, monitor: CameraSource) -> None:
        self._monitor = monitor

    def views(self) -> list[dict[str, Any]]:
        return [flatten(view.to_json()) for view in self._monitor.cameras()]

    def history(self, camera_id: str) -> list[dict[str, Any]] | None:
        entries = self._monitor.history(camera_id)
        return None if entries is None else [entry.to_json() for entry in entries]


def flatten(doc: Mapping[str, Any]) -> dict[str, Any]:
    """``facility: {id, name}`` as the wall's ``facility`` and ``facility_name``."""
    flat = dict(doc)
    facility = flat.get("facility")
    if isinstance(facility, Mapping):
        flat["facility"], flat["facility_name"] = facility.get("id", ""), facility.get("name", "")
    return flat


def fault_kinds(view: Mapping[str, Any]) -> list[str]:
    """The kinds of the view's current faults."""
    kinds = []
    for fault in view.get("faults") or ():
        kind = fault.get("kind") if isinstance(fault, Mapping) else fault
        if kind:
            kinds.append(str(kind))
    return kinds


def region_of(view: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(view.get("region") or ())


def in_region(views: Iterable[Mapping[str, Any]], scope: Sequence[str]) -> list[Mapping[str, Any]]:
    """The views inside ``scope``."""
    return [view for view in views if in_scope(scope, region_of(view))]


def select(
    views: Iterable[Mapping[str, Any]], fault: str = "", state: str = "", region: str = ""
) -> list[Mapping[str, Any]]:
    """Views with that fault kind, health state and region prefix (``a/b``); blanks match all."""
    prefix = tuple(part for part in region.split("/") if part)
    return [
        view
        for view in views
        if (not fault or fault in fault_kinds(view))
        and (not state or view.get("state") == state)
        and in_scope(prefix, region_of(view))
    ]


def sort_for_wall(views: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Faulty first, then suspect, then the rest; by region and name within each."""
    rank = {"faulty": 0, "suspect": 1, "restored": 2, "unknown": 3, "ok": 4}
    return sorted(
        views,
        key=lambda v: (rank.get(str(v.get("state")), 5), region_of(v), str(v.get("name") or "")),
    )


def summary(views: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Counts by state and by fault kind, and the region prefixes present."""
    views = list(views)
    states = Counter(str(view.get("state") or "unknown") for view in views)
    faults = Counter(kind for view in views for kind in fault_kinds(view))
    regions = {region_of(view)[:depth] for view in views for depth in (1, 2, 3)}
    return {
        "total": len(views),
        "states": dict(states),
        "faults": dict(sorted(faults.items())),
        "regions": sorted("/".join(region) for region in regions if region),
    }


def snapshot_url(view: Mapping[str, Any]) -> str | None:
    """Where the wall loads the camera's latest picture; ``None`` when it has none yet."""
    if "snapshot_url" in view:
        url = view["snapshot_url"]
        return str(url) if url else None
    return f"/api/v1/cameras/{view.get('id', '')}/snapshot.jpg"
