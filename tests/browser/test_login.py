"""Signing in through the real login page."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.harness import chromium, live_site, new_page, sign_in
from tests.unit.console.factory import ADMIN_PASSWORD

pytestmark = pytest.mark.browser


async def test_bad_password_then_rate_limited(tmp_path: Path) -> None:
    async with live_site(tmp_path) as live, chromium() as browser:
        page = await new_page(browser)
        for _ in range(5):
            await sign_in(page, live.url, "admin", "not the password")
            await page.wait_for_selector("#login-error")
            assert "Wrong user name or password." in await page.inner_text("#login-error")
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)  # right, but too late
        await page.wait_for_selector("#login-error")
        assert "Too many failed sign-ins" in await page.inner_text("#login-error")
        assert page.url.endswith("/console/login?lang=en")


async def test_sign_in_and_out(tmp_path: Path) -> None:
    async with live_site(tmp_path) as live, chromium() as browser:
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        await page.wait_for_url(f"{live.url}/console/")
        await page.wait_for_selector("#live[data-state=live]")
        cookies = {c["name"]: c for c in await page.context.cookies()}
        assert cookies["ec_session"]["httpOnly"]
        assert cookies["ec_session"]["sameSite"] == "Strict"
        await page.click("text=Log out")
        await page.wait_for_url(f"{live.url}/console/login")
        await page.goto(f"{live.url}/console/")
        assert "/console/login" in page.url
