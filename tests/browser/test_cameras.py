"""The camera wall with 216 facility cameras from a fake monitor."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.async_api import expect

from gateway.console.accounts import create_account
from tests.browser.cameras import FakeCameras, camera_views, snapshot_route
from tests.browser.harness import chromium, live_site, new_page, sign_in
from tests.unit.console.factory import ADMIN_PASSWORD, DONGCUN, FAST_PASSWORDS, PASSWORD

pytestmark = pytest.mark.browser


async def test_camera_wall_filters_and_scope(tmp_path: Path) -> None:
    cameras = FakeCameras(camera_views(), time.time())
    faulty = [v for v in cameras.views() if v["state"] == "faulty"]
    options = {"cameras": cameras, "extra_routes": [snapshot_route(cameras)]}
    async with live_site(tmp_path, **options) as live, chromium() as browser:
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.goto(f"{live.url}/console/cameras")
        await expect(page.locator("li.cam")).to_have_count(216)
        assert await page.get_attribute("li.cam img", "loading") == "lazy"
        first = page.locator("li.cam img").first
        await expect(first).to_have_js_property("complete", True)
        assert await first.evaluate("img => img.naturalWidth") == 320
        await page.select_option("select[name=state]", "faulty")
        await page.click("#camera-filters button")
        await expect(page.locator("li.cam")).to_have_count(len(faulty))
        await page.click("li.cam a >> nth=0")
        await expect(page.locator("#history tbody tr")).to_have_count(9)

        await create_account(
            live.site.db, "dongcun", PASSWORD, "operator", DONGCUN, passwords=FAST_PASSWORDS
        )
        village = await new_page(browser)
        await sign_in(village, live.url, "dongcun", PASSWORD)
        await village.goto(f"{live.url}/console/cameras")
        mine = [v for v in cameras.views() if tuple(v["region"]) == DONGCUN]
        await expect(village.locator("li.cam")).to_have_count(len(mine))


async def test_technician_sees_why_and_acknowledges_in_the_browser(tmp_path: Path) -> None:
    cameras = FakeCameras(camera_views(), time.time())
    faulty = next(v for v in cameras.views() if v["state"] == "faulty" and v["current_url"])
    options = {"cameras": cameras, "extra_routes": [snapshot_route(cameras)]}
    async with live_site(tmp_path, **options) as live, chromium() as browser:
        await create_account(
            live.site.db, "zhao", PASSWORD, "technician", tuple(faulty["region"]),
            passwords=FAST_PASSWORDS,
        )  # fmt: skip
        page = await new_page(browser)
        await sign_in(page, live.url, "zhao", PASSWORD)
        await page.goto(f"{live.url}/console/cameras?state=faulty")
        card = page.locator(f"li.cam[data-camera='{faulty['id']}']")
        await expect(card.locator(".cam-reason")).to_contain_text("since")
        pictures = card.locator(".pic img")
        await expect(pictures).to_have_count(2)  # now, beside the last good one
        for index in range(2):
            await expect(pictures.nth(index)).to_have_js_property("complete", True)
            assert await pictures.nth(index).evaluate("img => img.naturalWidth") == 320
        await card.locator("a").click()
        await expect(page.locator("#reasons li")).to_contain_text("since")
        await page.fill("#acknowledge-form input[name=reason]", "on my way with a ladder")
        await page.click("#acknowledge-form button")
        await expect(page.locator("#message")).to_be_visible()
        await expect(page.locator("#acknowledged")).to_contain_text("on my way with a ladder")
        assert cameras.acknowledged == [(faulty["id"], "zhao", "on my way with a ladder")]
