"""A screenshot of one faulty camera's page for docs/screenshots/ (the wall's is taken
with the others in test_screenshots.py). Written only with ``CONSOLE_SCREENSHOTS=1``."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.browser.cameras import FakeCameras, camera_views, snapshot_route
from tests.browser.harness import SCREENSHOTS, chromium, live_site, new_page, sign_in
from tests.unit.console.factory import ADMIN_PASSWORD

WANTED = os.environ.get("CONSOLE_SCREENSHOTS") == "1"
pytestmark = [pytest.mark.browser, pytest.mark.skipif(not WANTED, reason="CONSOLE_SCREENSHOTS=1")]


async def test_camera_page_screenshot(tmp_path: Path) -> None:
    cameras = FakeCameras(camera_views(), time.time())
    covered = [v for v in cameras.views() if v["state"] == "faulty" and v["current_url"]]
    frozen = next((v for v in covered if v["faults"][0]["kind"] == "occluded"), covered[0])
    await cameras.acknowledge(frozen["id"], "zhao", "on my way with a ladder")
    options = {"cameras": cameras, "extra_routes": [snapshot_route(cameras)], "language": "zh"}
    async with live_site(tmp_path, **options) as live, chromium() as browser:
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.goto(f"{live.url}/console/cameras/{frozen['id']}")
        await page.wait_for_load_state("networkidle")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / "camera.png"))
