"""The camera wall in plain words, and acknowledging or snoozing an incident."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gateway.cameras.faults import FaultKind
from gateway.cameras.modes import Mode
from gateway.console import camera_views as cv
from gateway.console.accounts import create_account
from gateway.console.texts import load_translations
from gateway.store.audit import AuditLog
from tests.unit.console.factory import (
    ADMIN_PASSWORD,
    DONGCUN,
    FAST_PASSWORDS,
    NANCUN,
    PASSWORD,
    Site,
    site,
)
from tests.unit.console.pages_helpers import client, csrf, login

NOW = time.mktime((2024, 5, 14, 9, 30, 0, 0, 0, -1))
FROZEN_SINCE = time.mktime((2024, 5, 14, 2, 14, 0, 0, 0, -1))


def frozen_view(camera_id: str = "c1", region: tuple[str, ...] = DONGCUN) -> dict[str, Any]:
    return {
        "id": camera_id, "name": "Corridor 2F", "facility": "f1", "facility_name": "Dongcun home",
        "region": list(region), "state": "faulty", "mode": "ir",
        "faults": [{"kind": "frozen", "since": FROZEN_SINCE}], "notices": [],
        "last_probe_at": NOW - 20, "incident": {"started_at": FROZEN_SINCE, "acknowledged": None},
        "snooze": None, "snapshot_url": f"/api/v1/cameras/{camera_id}/snapshot.jpg",
        "snapshot_at": FROZEN_SINCE - 60, "current_url": f"/api/v1/cameras/{camera_id}/current.jpg",
        "current_at": NOW - 20,
    }  # fmt: skip


class Monitor:
    """The monitor's read and write side, recording what technicians did."""

    def __init__(self, views: list[dict[str, Any]]) -> None:
        self._views = views
        self.acknowledged: list[tuple[str, str, str]] = []
        self.snoozed: list[tuple[str, str, str, float]] = []

    def views(self) -> list[dict[str, Any]]:
        return self._views

    def history(self, camera_id: str) -> list[dict[str, Any]] | None:
        return []

    async def acknowledge(self, camera_id: str, by: str, reason: str) -> bool | None:
        view = next(v for v in self._views if v["id"] == camera_id)
        if view["incident"] is None:
            return False
        self.acknowledged.append((camera_id, by, reason))
        view["incident"]["acknowledged"] = {"by": by, "at": NOW, "reason": reason}
        return True

    async def snooze(self, camera_id: str, by: str, reason: str, seconds: float) -> bool:
        self.snoozed.append((camera_id, by, reason, seconds))
        return True


def test_reasons_in_plain_words_in_both_languages() -> None:
    texts = load_translations()
    view = frozen_view()
    assert cv.reasons(view, texts.for_language("en"), NOW) == [
        ("frozen", "Picture frozen since 02:14")
    ]
    assert cv.reasons(view, texts.for_language("zh"), NOW) == [("frozen", "自 02:14 起画面冻结")]
    covered = {**view, "faults": [{"kind": "occluded", "since": NOW - 86_400}]}
    [(_, text)] = cv.reasons(covered, texts.for_language("en"), NOW)
    assert text == "Lens covered since 05-13 09:30"


def test_every_fault_kind_and_mode_has_words() -> None:
    for language, table in load_translations().tables.items():
        missing = [f"reason.{kind}" for kind in FaultKind if f"reason.{kind}" not in table]
        missing += [f"camera_mode.{mode}" for mode in Mode if f"camera_mode.{mode}" not in table]
        assert missing == [], language


def test_a_faulty_camera_shows_its_current_picture_beside_the_last_good_one() -> None:
    view = frozen_view()
    assert [which for _, which, _ in cv.pictures(view)] == ["now", "good"]
    healthy = {**view, "state": "ok", "faults": []}
    assert [which for _, which, _ in cv.pictures(healthy)] == ["good"]
    assert cv.pictures({"id": "c9", "snapshot_url": None}) == []


async def test_wall_and_camera_page_say_why(tmp_path: Path) -> None:
    monitor = Monitor([frozen_view()])
    async with site(tmp_path, cameras=monitor, clock=lambda: NOW) as s, client(s.app) as http:
        await login(http, "admin", ADMIN_PASSWORD)
        wall = (await http.get("/console/cameras")).text
        assert "Picture frozen since 02:14" in wall
        assert "/api/v1/cameras/c1/current.jpg" in wall
        assert "/api/v1/cameras/c1/snapshot.jpg" in wall
        page = (await http.get("/console/cameras/c1")).text
        assert "Picture frozen since 02:14" in page
        assert 'id="acknowledge-form"' in page
        assert "Infrared (grey-scale)" in page


async def camera_audit(s: Site) -> list[dict[str, Any]]:
    """The audit log's camera actions, newest first (logins are audited too)."""
    entries = await AuditLog(s.db).recent()
    return [entry for entry in entries if entry["action"].startswith("console.camera_")]


async def _account(s: Site, name: str, role: str, region: tuple[str, ...]) -> None:
    await create_account(s.db, name, PASSWORD, role, region, passwords=FAST_PASSWORDS)


async def test_technician_acknowledges_with_a_reason_and_it_is_audited(tmp_path: Path) -> None:
    monitor = Monitor([frozen_view()])
    async with site(tmp_path, cameras=monitor, clock=lambda: NOW) as s, client(s.app) as http:
        await _account(s, "zhao", "technician", DONGCUN)
        await login(http, "zhao", PASSWORD)
        token = await csrf(http)
        empty = await http.post("/console/cameras/c1/acknowledge", data={"csrf": token})
        assert empty.headers["location"].endswith("msg=invalid")
        reply = await http.post(
            "/console/cameras/c1/acknowledge", data={"csrf": token, "reason": "on my way"}
        )
        assert reply.status_code == 303
        assert reply.headers["location"] == "/console/cameras/c1?msg=acknowledged"
        assert monitor.acknowledged == [("c1", "zhao", "on my way")]
        page = (await http.get(reply.headers["location"])).text
        assert "Incident acknowledged." in page
        assert "zhao" in page
        [entry] = await camera_audit(s)
        assert (entry["actor"], entry["action"], entry["target"]) == (
            "zhao", "console.camera_acknowledged", "c1",
        )  # fmt: skip
        assert entry["detail"]["reason"] == "on my way"
        assert entry["detail"]["faults"] == ["frozen"]


async def test_snooze_takes_a_listed_duration_and_a_reason(tmp_path: Path) -> None:
    monitor = Monitor([frozen_view()])
    async with site(tmp_path, cameras=monitor, clock=lambda: NOW) as s, client(s.app) as http:
        await login(http, "admin", ADMIN_PASSWORD)
        token = await csrf(http)
        odd = {"csrf": token, "minutes": "7", "reason": "x"}
        assert (
            (await http.post("/console/cameras/c1/snooze", data=odd))
            .headers["location"]
            .endswith("msg=invalid")
        )
        good = {"csrf": token, "minutes": "60", "reason": "cleaning the dome"}
        reply = await http.post("/console/cameras/c1/snooze", data=good)
        assert reply.headers["location"] == "/console/cameras/c1?msg=snoozed"
        assert monitor.snoozed == [("c1", "admin", "cleaning the dome", 3600)]
        end = await http.post("/console/cameras/c1/snooze", data={"csrf": token, "minutes": "0"})
        assert end.headers["location"].endswith("msg=unsnoozed")
        actions = [entry["action"] for entry in await camera_audit(s)]
        assert actions == ["console.camera_snoozed", "console.camera_snoozed"]


async def test_actions_need_csrf_the_role_and_the_region(tmp_path: Path) -> None:
    monitor = Monitor([frozen_view(), frozen_view("c2", NANCUN)])
    async with site(tmp_path, cameras=monitor) as s, client(s.app) as http:
        await _account(s, "li", "operator", DONGCUN)
        await _account(s, "zhao", "technician", DONGCUN)
        await login(http, "zhao", PASSWORD)
        token = await csrf(http)
        forged = await http.post("/console/cameras/c1/acknowledge", data={"reason": "x"})
        assert forged.status_code == 403
        elsewhere = {"csrf": token, "reason": "x"}
        assert (
            await http.post("/console/cameras/c2/acknowledge", data=elsewhere)
        ).status_code == 404
        assert (await http.get("/console/cameras/c2")).status_code == 404
        async with client(s.app) as operator:
            await login(operator, "li", PASSWORD)
            page = (await operator.get("/console/cameras/c1")).text
            assert 'id="acknowledge-form"' not in page
            data = {"csrf": await csrf(operator), "reason": "x"}
            assert (
                await operator.post("/console/cameras/c1/acknowledge", data=data)
            ).status_code == 403
        assert monitor.acknowledged == []
        assert await camera_audit(s) == []
