"""The feed with 1,000 open alarms: first render, a change batch, the per-second tick."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page

from firmware_protocol.messages import Alert, AlertKind, Stage
from gateway.config import RulesConfig
from gateway.core.intake import plan_intake
from gateway.store.alerts import Advance, AlertStore
from gateway.store.db import Database
from gateway.store.intake import apply_plan
from tests.browser.harness import chromium, live_site, new_page, sign_in
from tests.unit.console.factory import ADMIN_PASSWORD, REGISTRY

pytestmark = pytest.mark.browser
log = logging.getLogger(__name__)
KINDS = list(AlertKind)[:6]  # the help kinds


async def _flood(db: Database, prefix: str, count: int, now: float) -> None:
    terminals = sorted(REGISTRY)
    messages = [
        Alert(terminals[n % len(terminals)], f"{prefix}{n}", KINDS[n % len(KINDS)], now - n)
        for n in range(count)
    ]
    await apply_plan(db, plan_intake(messages, REGISTRY, RulesConfig(), now), [], now)


def _moves(numbers: range, stage: Stage) -> list[Advance]:
    """Advances for flood alarms ``x<n>`` (they were spread over the terminals in order)."""
    terminals = sorted(REGISTRY)
    return [Advance(terminals[n % len(terminals)], f"x{n}", stage, "Li") for n in numbers]


async def _stats(page: Page) -> dict[str, Any]:
    stats: dict[str, Any] = await page.evaluate("({...window.consoleFeed})") or {}
    return stats


async def _until_rows(page: Page, rows: int, limit_s: float) -> float:
    started = time.perf_counter()
    while (await _stats(page)).get("rows") != rows:
        assert time.perf_counter() - started < limit_s, await _stats(page)
        await page.wait_for_timeout(20)
    return time.perf_counter() - started


async def test_a_thousand_open_alarms(tmp_path: Path) -> None:
    async with live_site(tmp_path) as live, chromium() as browser:
        db = live.site.db
        await _flood(db, "x", 1000, time.time())
        page = await new_page(browser)
        await sign_in(page, live.url, "admin", ADMIN_PASSWORD)
        first_paint = await _until_rows(page, 1000, 10)
        initial = await _stats(page)
        # A burst: 50 new alarms, 50 accepted and 50 resolved.
        await page.evaluate("window.consoleFeed.applyMsMax = 0")
        started = time.perf_counter()
        await _flood(db, "y", 50, time.time())
        store = AlertStore(db, [])
        await store.advance(_moves(range(50), Stage.ACCEPTED), time.time())
        await store.advance(_moves(range(50, 100), Stage.RESOLVED), time.time())
        await page.wait_for_selector("li.alarm[data-key$='/y0']", timeout=5_000)
        await page.wait_for_selector("li.alarm[data-key$='/x99']", state="detached", timeout=5_000)
        burst = time.perf_counter() - started
        after = await _stats(page)
        await page.wait_for_timeout(1100)
        tick = await _stats(page)
        order = await page.eval_on_selector_all(
            "li.alarm", "rows => rows.slice(0, 3).map(r => r.dataset.kind)"
        )
        log.info(
            "1000 alarms: rendered %.2fs after sign-in (snapshot apply %.1f ms);"
            " burst of 150 changes shown in %.2fs (apply at most %.1f ms); tick %.1f ms",
            first_paint, initial["applyMs"], burst, after["applyMsMax"], tick["tickMs"],
        )  # fmt: skip
        assert order == ["emergency"] * 3
        assert initial["applyMs"] < 1000
        assert after["rows"] == 1000
        assert after["applyMsMax"] < 200
        assert tick["tickMs"] < 50
