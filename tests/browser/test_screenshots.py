"""Screenshots of the console's pages for docs/screenshots/.

Written only with ``CONSOLE_SCREENSHOTS=1``: they are documentation, not a check.
"""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import pytest
from playwright.async_api import Page

from firmware_protocol.messages import AlertKind, Stage
from gateway.core.elders import Contact, ElderRecord
from gateway.dispatch.desk import DispatchDesk
from gateway.dispatch.worker import Dispatcher
from gateway.store.alerts import Advance, AlertStore
from gateway.store.db import Database
from tests.browser.cameras import FakeCameras, camera_views, snapshot_route
from tests.browser.harness import (
    KIOSK_ARGS,
    SCREENSHOTS,
    chromium,
    live_site,
    new_page,
    sign_in,
)
from tests.unit.console.factory import ADMIN_PASSWORD, REGISTRY, press, report

WANTED = os.environ.get("CONSOLE_SCREENSHOTS") == "1"
pytestmark = [pytest.mark.browser, pytest.mark.skipif(not WANTED, reason="CONSOLE_SCREENSHOTS=1")]

ALARMS = [  # terminal, id, kind, seconds ago
    ("T001", "e1", AlertKind.EMERGENCY, 45), ("T003", "e2", AlertKind.EMERGENCY, 190),
    ("T005", "m1", AlertKind.MEDICAL, 75), ("T002", "n1", AlertKind.NURSING, 130),
    ("T004", "b1", AlertKind.MEAL, 400), ("T006", "r1", AlertKind.ERRAND, 900),
    ("T002", "w1", AlertKind.MOBILITY, 20),
]  # fmt: skip
STATION = Contact("长安社区居家养老服务站", "service_station", "0571-86661234")


def record(terminal_id: str, n: int) -> ElderRecord:
    return ElderRecord(
        terminal_id, address=f"长安街道东村 {12 + n} 幢 2 单元 30{n} 室",
        access="钥匙盒在门右侧，密码 4711", medical="2 型糖尿病，注射胰岛素；青霉素过敏",
        language="杭州话，耳背请大声", lives_alone=n % 2 == 0,
        contacts=(Contact("王丽（女儿）", "relative", "13812345678"),
                  Contact("赵强（邻居）", "neighbour", "13987654321"),
                  Contact("网格员 周海涛", "grid_worker", "13600001111"),
                  Contact("村医 陈敏", "doctor", "13700002222"), STATION,
                  Contact("志愿者 孙华", "volunteer", "13500003333")),
    )  # fmt: skip


async def _history(db: Database, now: float) -> None:
    """A week of settled alarms, so the report has something to show."""
    rng = random.Random(3)
    store = AlertStore(db, [])
    for n in range(60):
        terminal = REGISTRY[f"T00{1 + n % 6}"].terminal_id
        kind = rng.choice(
            [AlertKind.EMERGENCY] * 4
            + [AlertKind.MEDICAL, AlertKind.MEAL, AlertKind.NURSING, AlertKind.ERRAND]
        )
        at = now - 86_400 * rng.uniform(0.5, 6.5)
        await press(db, terminal, f"h{n}", kind, at)
        wait = rng.choice([12, 18, 25, 31, 40, 44, 52, 58, 75, 130])
        await store.advance([Advance(terminal, f"h{n}", Stage.ACCEPTED, "网格员")], at + wait)
        await store.advance([Advance(terminal, f"h{n}", Stage.RESOLVED, "网格员")], at + 900)


async def _tokens(db: Database) -> dict[int, str]:
    async with db.reader.execute("SELECT body FROM events WHERE type = 'alert.dispatch'") as cur:
        bodies = [json.loads(r[0]) async for r in cur]
    return {b["data"]["attempt"]: b["data"]["answer"]["token"] for b in bodies
            if b["data"]["alert_id"] == "e1"}  # fmt: skip


async def _populate(db: Database, desk: DispatchDesk, now: float) -> None:
    await _history(db, now)
    for n, terminal in enumerate(REGISTRY):
        await desk.elders.put(record(terminal, n), "admin", now - 86_400)
    for terminal, alert, kind, ago in ALARMS:
        await press(db, terminal, alert, kind, now - ago)
    store = AlertStore(db, [])
    await store.advance([Advance("T004", "b1", Stage.DELIVERED, "command-center")], now - 390)
    await store.advance([Advance("T006", "r1", Stage.ACCEPTED, "Zhao Min", eta_s=900)], now - 600)
    await Dispatcher(desk, ["emergency", "medical"], 1.0, 3600.0).sweep()
    await desk.answer((await _tokens(db))[1], accept=False, eta_s=None)
    for n in range(48):  # a day of readings, every half hour
        at = now - 86_400 + n * 1800
        await report(
            db, "T001", f"h{n}", at, heart_rate_bpm=72 + (n * 7) % 15, spo2_pct=95 + n % 4,
            bp_systolic_mmhg=128 + (n * 5) % 22, body_temp_c=36.4 + (n % 5) / 10,
        )  # fmt: skip


async def _shoot(page: Page, name: str, full: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / name), full_page=full)


async def test_screenshots(tmp_path: Path) -> None:
    now = time.time()
    cameras = FakeCameras(camera_views(), now)
    options = {"cameras": cameras, "extra_routes": [snapshot_route(cameras)], "language": "zh"}
    async with live_site(tmp_path, **options) as live, chromium() as browser:
        assert live.site.desk is not None
        await _populate(live.site.db, live.site.desk, now)
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.wait_for_selector("li.alarm >> nth=6")
        await page.wait_for_timeout(1200)  # an escalation sweep and a tick
        await _shoot(page, "feed.png")
        await page.goto(f"{live.url}/console/alerts/T001/e1")
        await page.click("#access-form button")
        await page.wait_for_selector("#access-text")
        await _shoot(page, "alarm.png", full=True)
        await page.goto(f"{live.url}/console/alerts/T004/b1")
        await _shoot(page, "service.png", full=True)
        await page.goto(f"{live.url}/console/reports")
        await _shoot(page, "reports.png", full=True)
        await page.goto(f"{live.url}/console/elders/T001")
        await _shoot(page, "elder.png", full=True)
        await page.goto(f"{live.url}/console/cameras")
        await page.wait_for_load_state("networkidle")
        await _shoot(page, "cameras.png")
    async with live_site(tmp_path / "wall", **options) as live, chromium(KIOSK_ARGS) as browser:
        assert live.site.desk is not None
        await _populate(live.site.db, live.site.desk, now)
        page = await new_page(browser, {"width": 1920, "height": 1080})
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.goto(f"{live.url}/console/kiosk")
        await page.wait_for_selector("#towns tbody tr")
        await page.wait_for_timeout(1200)
        await _shoot(page, "kiosk.png")
