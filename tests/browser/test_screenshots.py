"""Screenshots of the feed, an alarm and the camera wall for docs/screenshots/.

Written only with ``CONSOLE_SCREENSHOTS=1``: they are documentation, not a check.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.async_api import Page

from firmware_protocol.messages import AlertKind, Stage
from gateway.store.alerts import Advance, AlertStore
from gateway.store.db import Database
from tests.browser.cameras import FakeCameras, camera_views, snapshot_route
from tests.browser.harness import SCREENSHOTS, chromium, live_site, new_page, sign_in
from tests.unit.console.factory import ADMIN_PASSWORD, press, report

WANTED = os.environ.get("CONSOLE_SCREENSHOTS") == "1"
pytestmark = [pytest.mark.browser, pytest.mark.skipif(not WANTED, reason="CONSOLE_SCREENSHOTS=1")]

ALARMS = [  # terminal, id, kind, seconds ago
    ("T001", "e1", AlertKind.EMERGENCY, 45), ("T003", "e2", AlertKind.EMERGENCY, 190),
    ("T005", "m1", AlertKind.MEDICAL, 75), ("T002", "n1", AlertKind.NURSING, 130),
    ("T004", "b1", AlertKind.MEAL, 400), ("T006", "r1", AlertKind.ERRAND, 900),
    ("T002", "w1", AlertKind.MOBILITY, 20),
]  # fmt: skip


async def _populate(db: Database, now: float) -> None:
    for terminal, alert, kind, ago in ALARMS:
        await press(db, terminal, alert, kind, now - ago)
    store = AlertStore(db, [])
    await store.advance([Advance("T004", "b1", Stage.DELIVERED, "command-center")], now - 390)
    await store.advance([Advance("T006", "r1", Stage.ACCEPTED, "Zhao Min", eta_s=900)], now - 600)
    await store.note("T001", "e1", "assigned", "admin", "grid_worker: 周海涛", now - 30)
    for n in range(48):  # a day of readings, every half hour
        at = now - 86_400 + n * 1800
        await report(
            db, "T001", f"h{n}", at, heart_rate_bpm=72 + (n * 7) % 15, spo2_pct=95 + n % 4,
            bp_systolic_mmhg=128 + (n * 5) % 22, body_temp_c=36.4 + (n % 5) / 10,
        )  # fmt: skip


async def _shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / name))


async def test_screenshots(tmp_path: Path) -> None:
    now = time.time()
    cameras = FakeCameras(camera_views(), now)
    options = {"cameras": cameras, "extra_routes": [snapshot_route(cameras)], "language": "zh"}
    async with live_site(tmp_path, **options) as live, chromium() as browser:
        await _populate(live.site.db, now)
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.wait_for_selector("li.alarm >> nth=6")
        await page.wait_for_timeout(1200)  # an escalation sweep and a tick
        await _shoot(page, "feed.png")
        await page.goto(f"{live.url}/console/alerts/T001/e1")
        await _shoot(page, "alarm.png")
        await page.goto(f"{live.url}/console/cameras")
        await page.wait_for_load_state("networkidle")
        await _shoot(page, "cameras.png")
