"""Pure helpers behind the pages: scope filters, tallies, sparklines, timelines."""

from __future__ import annotations

from typing import Any

from gateway.console import camera_views as cv
from gateway.console.filters import duration, region
from gateway.console.sparkline import HEIGHT, PAD, WIDTH, sparklines
from gateway.console.terminals import report
from gateway.console.texts import load_translations
from gateway.console.timeline import timeline_rows
from tests.unit.console.factory import DONGCUN, NANCUN, REGISTRY, XICUN

CAMERAS: list[dict[str, Any]] = [
    {"id": "c1", "name": "Gate", "region": list(DONGCUN), "state": "ok", "faults": []},
    {"id": "c2", "name": "Hall", "region": list(XICUN), "state": "faulty",
     "faults": [{"kind": "black", "measure": "mean_luma"}]},
    {"id": "c3", "name": "Yard", "region": list(NANCUN), "state": "suspect", "faults": ["frozen"]},
]  # fmt: skip


def test_cameras_outside_the_scope_are_hidden() -> None:
    assert [v["id"] for v in cv.in_region(CAMERAS, DONGCUN)] == ["c1"]
    assert [v["id"] for v in cv.in_region(CAMERAS, DONGCUN[:2])] == ["c1", "c2"]
    assert len(cv.in_region(CAMERAS, ())) == 3


def test_camera_filters_combine() -> None:
    assert [v["id"] for v in cv.select(CAMERAS, fault="black")] == ["c2"]
    assert [v["id"] for v in cv.select(CAMERAS, state="suspect")] == ["c3"]
    assert [v["id"] for v in cv.select(CAMERAS, region="Binjiang/Changan")] == ["c1", "c2"]
    assert cv.select(CAMERAS, fault="black", region="Binjiang/Puyan") == []


def test_camera_wall_order_and_summary() -> None:
    assert [v["id"] for v in cv.sort_for_wall(CAMERAS)] == ["c2", "c3", "c1"]
    summary = cv.summary(CAMERAS)
    assert summary["states"] == {"ok": 1, "faulty": 1, "suspect": 1}
    assert summary["faults"] == {"black": 1, "frozen": 1}
    assert "Binjiang/Changan/Xicun" in summary["regions"]
    assert cv.snapshot_url(CAMERAS[0]) == "/api/v1/cameras/c1/snapshot.jpg"


def test_terminal_tallies_per_town_and_village() -> None:
    states: dict[str, dict[str, Any]] = {
        "T001": {"online": 1, "selftest_missed": 0, "last_seen": 10.0, "offline_at": None},
        "T002": {"online": 0, "selftest_missed": 1, "last_seen": 5.0, "offline_at": 6.0},
        "T003": {"online": 0, "selftest_missed": 0, "last_seen": 7.0, "offline_at": None},
        "T005": {"online": 1, "selftest_missed": 1, "last_seen": 9.0, "offline_at": None},
    }
    whole = report(REGISTRY, states, ())
    assert (whole.total.online, whole.total.offline, whole.total.unseen) == (2, 2, 2)
    assert whole.total.selftest_missed == 2
    changan = whole.towns[("Binjiang", "Changan")]
    assert (changan.online, changan.offline, changan.unseen) == (1, 2, 1)
    assert whole.villages[NANCUN].unseen == 1
    assert [e["terminal_id"] for e in whole.offline] == ["T003", "T002"]
    village = report(REGISTRY, states, DONGCUN)
    assert list(village.villages) == [DONGCUN]
    assert [e["terminal_id"] for e in village.selftest_missed] == ["T002"]


def test_sparklines_fit_the_box() -> None:
    reports: list[tuple[float, str | dict[str, Any]]] = [
        (float(t), {"heart_rate_bpm": 60 + t % 7, "spo2_pct": 97}) for t in range(0, 100, 5)
    ]
    reports.append((100.0, '{"heart_rate_bpm": 80, "fall_detected": true}'))
    charts = {c.name: c for c in sparklines(reports, 0, 100)}
    assert set(charts) == {"heart_rate_bpm", "spo2_pct"}
    heart = charts["heart_rate_bpm"]
    assert (heart.last, heart.count, heart.low, heart.high) == (80, 21, 60, 80)
    for point in heart.points.split():
        x, y = map(float, point.split(","))
        assert PAD <= x <= WIDTH - PAD
        assert PAD <= y <= HEIGHT - PAD
    flat = charts["spo2_pct"].points.split()[0]
    assert float(flat.split(",")[1]) == HEIGHT / 2


def test_timeline_notes_are_translated() -> None:
    t = load_translations().for_language("zh")
    rows = timeline_rows(
        [
            {"action": "escalated", "at": 1.0, "actor": "escalator", "note": "to town"},
            {"action": "assigned", "at": 2.0, "actor": "wang", "note": "doctor: Li — bring ECG"},
            {"action": "resolved", "at": 3.0, "actor": "T001", "note": "cancelled"},
            {"action": "escalated", "at": 4.0, "actor": "escalator", "note": "to region9"},
        ],
        t,
    )
    assert [r["note"] for r in rows] == ["至镇街", "医生: Li — bring ECG", "终端取消", "至region9"]
    assert rows[0]["label"] == "升级"


def test_filters() -> None:
    assert [duration(s) for s in (5, 65, 3725, None)] == ["5s", "1m 05s", "1h 02m", "—"]
    assert region(DONGCUN) == "Binjiang / Changan / Dongcun"
    assert region(()) == "*"


def test_the_camera_monitor_through_its_adapter() -> None:
    from gateway.cameras.faults import Fault, FaultKind
    from gateway.cameras.health import Phase
    from gateway.cameras.probe import ProbeOutcome
    from gateway.cameras.views import CameraView, HistoryEntry

    view = CameraView(
        "c9", "Gate", "f1", "Dongcun day centre", DONGCUN, Phase.FAULTY,
        (Fault(FaultKind.BLACK, "mean_luma", 3.0, 24.0),), 10.0, has_snapshot=False,
    )  # fmt: skip
    entry = HistoryEntry(10.0, ProbeOutcome.REACHABLE, Phase.FAULTY, view.faults, 1.5, fps=24.0)

    class Monitor:
        def cameras(self) -> list[CameraView]:
            return [view]

        def history(self, camera_id: str) -> list[HistoryEntry] | None:
            return [entry] if camera_id == "c9" else None

    views = cv.MonitorViews(Monitor())
    [flat] = views.views()
    assert (flat["id"], flat["facility"]) == ("c9", "f1")
    assert flat["facility_name"] == "Dongcun day centre"
    assert cv.fault_kinds(flat) == ["black"]
    assert cv.snapshot_url(flat) is None  # no good frame yet
    assert cv.in_region([flat], DONGCUN) == [flat]
    history = views.history("c9")
    assert history is not None
    assert history[0]["state"] == "faulty"
    assert views.history("nope") is None
