"""What the camera wall needs from the camera health monitor, and how it filters it.

The monitor (``gateway.cameras``) keeps a view of every camera; the console reads it
through the small :class:`CameraViews` protocol, so the wall is tested with a fake. A
view is a mapping with (at least) the keys of :class:`CameraView`; faults are mappings
with a ``kind`` (as ``Fault.to_json()`` writes them, with the ``since`` of the view) or
bare kind strings. A monitor that also offers :class:`CameraActions` lets technicians
acknowledge and snooze incidents from the camera's page.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypedDict, runtime_checkable

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
    current_url: str | None
    snapshot_at: float | None
    current_at: float | None
    notices: list[Any]
    incident: dict[str, Any] | None
    snooze: dict[str, Any] | None


class CameraViews(Protocol):
    """The monitor's read side."""

    def views(self) -> Sequence[Mapping[str, Any]]:
        """Every camera's current view."""
        ...

    def history(self, camera_id: str) -> Sequence[Mapping[str, Any]] | None:
        """Recent probes of one camera, newest last; ``None`` for an unknown camera."""
        ...


@runtime_checkable
class CameraActions(Protocol):
    """What a technician can do to a camera's incident (the monitor's write side)."""

    async def acknowledge(self, camera_id: str, by: str, reason: str) -> bool | None:
        """Acknowledge the open incident; ``None``: no such camera, False: none open."""
        ...

    async def snooze(self, camera_id: str, by: str, reason: str, seconds: float) -> bool:
        """Hold the camera's events back for ``seconds``; False: no such camera."""
        ...


class _Json(Protocol):
    def to_json(self) -> dict[str, Any]: ...


class CameraSource(Protocol):
    """The read side of :class:`gateway.cameras.scheduler.CameraMonitor` (which also
    offers :class:`CameraActions`)."""

    def cameras(self) -> Sequence[_Json]: ...

    def history(self, camera_id: str) -> Sequence[_Json] | None: ...


class MonitorViews:
    """:class:`CameraViews` and :class:`CameraActions` over the camera monitor (its API
    documents, flattened)."""

    def __init__(self, monitor: CameraSource) -> None:
        self._monitor = monitor

    def views(self) -> list[dict[str, Any]]:
        return [flatten(view.to_json()) for view in self._monitor.cameras()]

    def history(self, camera_id: str) -> list[dict[str, Any]] | None:
        entries = self._monitor.history(camera_id)
        return None if entries is None else [entry.to_json() for entry in entries]

    async def acknowledge(self, camera_id: str, by: str, reason: str) -> bool | None:
        if not isinstance(self._monitor, CameraActions):
            return None
        return await self._monitor.acknowledge(camera_id, by, reason)

    async def snooze(self, camera_id: str, by: str, reason: str, seconds: float) -> bool:
        if not isinstance(self._monitor, CameraActions):
            return False
        return await self._monitor.snooze(camera_id, by, reason, seconds)


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


def current_url(view: Mapping[str, Any]) -> str | None:
    """Where the wall loads the frame of the camera's latest probe, fault or not."""
    url = view.get("current_url")
    return str(url) if url else None


def pictures(view: Mapping[str, Any]) -> list[tuple[str, str, float | None]]:
    """The pictures to show, as ``(url, "now" | "good", taken at)``: the current frame
    beside the last good one while the camera is not ok and they differ, else one."""
    good, now = snapshot_url(view), current_url(view)
    troubled = view.get("state") in ("faulty", "suspect", "restored") or bool(view.get("faults"))
    shown: list[tuple[str, str, float | None]] = []
    if now and (troubled or not good):
        shown.append((now, "now", view.get("current_at")))
    if good and (troubled or not now):
        shown.append((good, "good", view.get("snapshot_at")))
    if not shown and good:
        shown.append((good, "good", view.get("snapshot_at")))
    return shown


def reasons(view: Mapping[str, Any], t: Callable[..., str], now: float) -> list[tuple[str, str]]:
    """Why the camera is (or is about to be) faulty, in plain words: ``(kind, text)``
    per fault and notice, e.g. ``("frozen", "Picture frozen since 02:14")``."""
    found = []
    for fault in [*(view.get("faults") or ()), *(view.get("notices") or ())]:
        kind = fault.get("kind") if isinstance(fault, Mapping) else fault
        if not kind:
            continue
        since = fault.get("since") if isinstance(fault, Mapping) else None
        at = since if since is not None else view.get("last_probe_at")
        found.append((str(kind), t(f"reason.{kind}", since=short_time(at, now))))
    return found


def short_time(at: float | None, now: float) -> str:
    """``02:14`` on the same day as ``now``, ``05-13 23:50`` on another; ``—`` if unknown."""
    if at is None:
        return "—"
    same_day = time.localtime(at)[:3] == time.localtime(now)[:3]
    return time.strftime("%H:%M" if same_day else "%m-%d %H:%M", time.localtime(at))
