"""End-to-end in a real browser: a simulated press appears in the open console, and the
operator's accept reaches the elder's terminal as ``accepted``."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import expect

from device_sim.procs import ManagedProcess
from firmware_protocol.messages import AlertKind, Stage
from tests.browser.harness import chromium, new_page, sign_in
from tests.support.district import district
from tests.support.gateway import ADMIN_PASSWORD
from tests.support.site import Site

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


async def test_press_shows_in_console_and_accept_reaches_the_terminal(
    site: Site, broker: ManagedProcess
) -> None:
    async with district(site, terminals=3) as d, chromium() as browser:
        assert d.gateway is not None
        url = f"http://127.0.0.1:{d.gateway.http_port}"
        page = await new_page(browser)
        await sign_in(page, url, "admin", ADMIN_PASSWORD)
        await page.wait_for_selector("#live[data-state=live]")
        terminal = d.fleet.terminal_ids[0]
        elder = site.terminals[0].elder_name
        alert_id = d.fleet.press(terminal, AlertKind.EMERGENCY)
        row = page.locator(f"li.alarm[data-key='{terminal}/{alert_id}']")
        await expect(row).to_contain_text(elder, timeout=10_000)
        await row.click()
        await page.wait_for_selector("#accept-form")
        await page.fill("#accept-form input[name=responder]", "村医 赵明")
        await page.fill("#accept-form input[name=eta_min]", "5")
        await page.click("#accept-form button")
        async with asyncio.timeout(15):
            record = await d.fleet.wait_stage(terminal, alert_id, Stage.ACCEPTED)
        assert Stage.RECEIVED in record.reached
        async with asyncio.timeout(10):
            await d.center.wait_for(
                lambda ev: any(e.type == "alert.accepted" and e.data["by"] == "村医 赵明"
                               for e in ev)
            )  # fmt: skip
