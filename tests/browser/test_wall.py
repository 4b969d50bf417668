"""The wall display and the feed's two lanes in Chromium: what sounds, and when."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import expect

from firmware_protocol.messages import AlertKind
from tests.browser.harness import KIOSK_ARGS, chromium, live_site, new_page, sign_in
from tests.unit.console.factory import ADMIN_PASSWORD, press

pytestmark = pytest.mark.browser


async def test_without_the_autoplay_flag_the_wall_asks_for_one_click(tmp_path: Path) -> None:
    async with live_site(tmp_path) as live, chromium() as browser:
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.goto(f"{live.url}/console/kiosk")
        await expect(page.locator("#sound-gate")).to_be_visible()
        assert await page.evaluate("window.consoleSound.state()") == "suspended"
        await page.click("#sound")
        await expect(page.locator("#sound-gate")).to_be_hidden()
        assert await page.evaluate("window.consoleSound.state()") == "running"


async def test_with_the_flag_the_wall_sounds_at_once_and_after_a_reload(tmp_path: Path) -> None:
    async with live_site(tmp_path) as live, chromium(KIOSK_ARGS) as browser:
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.goto(f"{live.url}/console/kiosk")
        await page.wait_for_selector("#live[data-state=live]")
        await press(live.site.db, "T001", "e1", AlertKind.EMERGENCY)
        await expect(page.locator("#waiting li[data-key='T001/e1']")).to_be_visible()
        await expect(page.locator("#towns tbody tr[data-area='Binjiang/Changan'] td").first)\
            .to_have_text("1", timeout=10_000)  # fmt: skip
        assert await page.evaluate("window.kiosk.alarms") >= 1
        await page.reload()
        await page.wait_for_selector("#live[data-state=live]")
        # Still waiting after the reload: the alarm sounds again, nobody clicked anything.
        await expect(page.locator("#waiting li")).to_have_count(1)
        assert await page.evaluate("window.kiosk.alarms") >= 1
        assert await page.evaluate("window.kiosk.audio") == "running"
        assert await page.locator("#sound-gate").is_hidden()


async def test_service_requests_have_their_lane_and_a_different_sound(tmp_path: Path) -> None:
    async with live_site(tmp_path) as live, chromium(KIOSK_ARGS) as browser:
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.wait_for_selector("#live[data-state=live]")
        await press(live.site.db, "T002", "m1", AlertKind.MEAL)
        await expect(page.locator("#services li[data-key='T002/m1']")).to_be_visible()
        assert await page.evaluate("[window.consoleFeed.chimes, window.consoleFeed.beeps]") == [
            1,
            0,
        ]
        await press(live.site.db, "T001", "e1", AlertKind.EMERGENCY)
        await expect(page.locator("#alarms li[data-key='T001/e1']")).to_be_visible()
        assert await page.evaluate("window.consoleFeed.beeps") == 1
        assert await page.evaluate("window.consoleSound.stats") == {"alarms": 1, "chimes": 1}
        assert await page.locator("#services li").count() == 1
        assert await page.inner_text("#count-services") == "1"
