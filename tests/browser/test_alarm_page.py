"""The alarm page follows its call sequence in Chromium: a new call shows by itself,
unless the operator is typing — then the page says it changed instead."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.async_api import expect

from firmware_protocol.messages import AlertKind
from gateway.core import dispatch as core
from gateway.core.elders import Contact, ElderRecord
from gateway.dispatch.worker import Dispatcher
from gateway.operations import Actor
from tests.browser.harness import chromium, live_site, new_page, sign_in
from tests.unit.console.factory import ADMIN_PASSWORD, press

pytestmark = pytest.mark.browser

RECORD = ElderRecord(
    "T001", address="长安路 8 号", medical="高血压",
    contacts=(Contact("李娜", "relative", "13800000011"),
              Contact("王强", "neighbour", "13800000012"),
              Contact("赵明", "grid_worker", "13800000013")),
)  # fmt: skip
ADMIN = Actor("admin", "admin", ())


async def test_the_next_call_shows_without_a_reload_unless_someone_is_typing(
    tmp_path: Path,
) -> None:
    async with live_site(tmp_path) as live, chromium() as browser:
        desk = live.site.desk
        assert desk is not None
        await desk.elders.put(RECORD, "admin", time.time())
        await press(live.site.db, "T001", "e1", AlertKind.EMERGENCY)
        await Dispatcher(desk, ["emergency"], 1.0, 3600.0).sweep()
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.goto(f"{live.url}/console/alerts/T001/e1")
        await expect(page.locator("#attempts tbody tr")).to_have_count(1)

        await desk.control(ADMIN, "T001", "e1", core.Skip("admin"))
        await expect(page.locator("#attempts tbody tr")).to_have_count(2, timeout=5_000)
        assert await page.locator("#changed").is_hidden()

        await page.fill("#resolve-form input[name=note]", "half typed")
        await desk.control(ADMIN, "T001", "e1", core.Skip("admin"))
        await expect(page.locator("#changed")).to_be_visible(timeout=5_000)
        assert await page.input_value("#resolve-form input[name=note]") == "half typed"
        await expect(page.locator("#attempts tbody tr")).to_have_count(2)
