"""The live alarm feed and the alarm page, driven in Chromium."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.async_api import expect

from firmware_protocol.messages import AlertKind, Stage
from gateway.console.accounts import create_account
from gateway.console.config import ConsoleConfig, EscalationRuleConfig
from gateway.store.alerts import Advance, AlertStore
from tests.browser.harness import chromium, live_site, new_page, sign_in
from tests.unit.console.factory import ADMIN_PASSWORD, DONGCUN, FAST_PASSWORDS, PASSWORD, press

pytestmark = pytest.mark.browser

ROW = "li.alarm[data-key='{}']"


async def test_new_alarm_appears_without_reload_and_is_accepted(tmp_path: Path) -> None:
    async with live_site(tmp_path) as live, chromium() as browser:
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.wait_for_selector("#live[data-state=live]")
        await press(live.site.db, "T001", "a1", AlertKind.EMERGENCY)
        row = page.locator(ROW.format("T001/a1"))
        await expect(row).to_contain_text("王秀英", timeout=5_000)
        assert await page.inner_text("#count-emergency") == "1"
        assert await page.evaluate("window.consoleFeed.beeps") >= 1
        await row.click()
        await page.wait_for_selector("#accept-form")
        # The command center confirms while the page is open: the page says so.
        await AlertStore(live.site.db, []).advance(
            [Advance("T001", "a1", Stage.DELIVERED, "command-center")], time.time()
        )
        await expect(page.locator("#changed")).to_be_visible(timeout=5_000)
        await page.click("#reload")
        await expect(page.locator("#stage")).to_have_text("Delivered")
        await page.fill("#accept-form input[name=responder]", "Li Wei")
        await page.fill("#accept-form input[name=eta_min]", "8")
        await page.click("#accept-form button")
        await page.wait_for_selector("#message")
        assert "Accepted" in await page.inner_text("#stage")
        accepted = [u for u in live.site.acks.updates if u.stage is Stage.ACCEPTED]
        assert [(u.terminal_id, u.alert_id, u.by, u.eta_s) for u in accepted] == [
            ("T001", "a1", "Li Wei", 480)
        ]
        await page.click("text=← Alarms")
        await expect(page.locator(ROW.format("T001/a1") + " .responder")).to_contain_text("Li Wei")


async def test_escalation_shows_on_the_feed(tmp_path: Path) -> None:
    config = ConsoleConfig(
        escalation=[EscalationRuleConfig(after_s=1, level=1, name="town")],
        escalation_interval_s=0.2,
    )
    async with live_site(tmp_path, config=config) as live, chromium() as browser:
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.wait_for_selector("#live[data-state=live]")
        await press(live.site.db, "T005", "late", AlertKind.MEDICAL)
        level = page.locator(ROW.format("T005/late") + " .level")
        await expect(level).to_contain_text("Town", timeout=6_000)
        assert await page.inner_text("#count-escalated") == "1"
        await page.click(ROW.format("T005/late"))
        assert "to Town" in await page.inner_text("#timeline")


async def test_village_operator_sees_only_their_village(tmp_path: Path) -> None:
    async with live_site(tmp_path) as live, chromium() as browser:
        db = live.site.db
        await create_account(db, "dongcun", PASSWORD, "operator", DONGCUN, passwords=FAST_PASSWORDS)
        await press(db, "T001", "mine")
        await press(db, "T003", "theirs")
        page = await new_page(browser)
        await sign_in(page, live.url, "dongcun", PASSWORD)
        await page.wait_for_selector(ROW.format("T001/mine"))
        await press(db, "T004", "theirs-live")
        await press(db, "T002", "mine-live")
        await page.wait_for_selector(ROW.format("T002/mine-live"), timeout=5_000)
        shown = await page.eval_on_selector_all("li.alarm", "rows => rows.map(r => r.dataset.key)")
        assert sorted(shown) == ["T001/mine", "T002/mine-live"]
        response = await page.request.get(f"{live.url}/api/v1/alerts")
        assert sorted(a["alert_id"] for a in (await response.json())["alerts"]) == [
            "mine", "mine-live",
        ]  # fmt: skip
        other = await page.goto(f"{live.url}/console/alerts/T003/theirs")
        assert other is not None
        assert other.status == 404


async def test_language_switch_shows_chinese(tmp_path: Path) -> None:
    async with live_site(tmp_path) as live, chromium() as browser:
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.wait_for_selector("nav >> text=Alarms")
        await page.click("button[name=lang][value=zh]")
        await page.wait_for_selector("nav >> text=报警")
        await page.wait_for_selector("#live[data-state=live]")
        await expect(page.locator("#live")).to_have_text("实时")
        await press(live.site.db, "T006", "zh", AlertKind.MEAL)
        row = page.locator(ROW.format("T006/zh"))
        await expect(row).to_contain_text("助餐")
        await expect(row).to_contain_text("已接收")
