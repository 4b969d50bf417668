"""End to end in a real browser: who goes to the elder.

Elders' records are imported from CSV with the gateway's own command. A terminal's
emergency runs its call sequence (the command-center simulator plays the responders:
the first declines, the second never answers, the third accepts); the terminal hears
``accepted`` with the third responder's name; the operator saw the address and the
medical notes on the alarm page and the timeline shows all three calls. A meal request
lands in the service lane and is assigned and completed from the console; the report
for the day has the right counts and the accept-within-60 s share; the wall display
sounds the alarm without anyone clicking, also after a reload.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import Page, expect

from device_sim.command_center.telephony import TelephonyOptions, parse_plan
from device_sim.procs import ManagedProcess
from firmware_protocol.messages import AlertKind
from gateway.core.elders import Contact, ElderRecord
from gateway.dispatch.elders_csv import format_elders
from tests.browser.harness import KIOSK_ARGS, chromium, new_page, sign_in
from tests.support.district import District, district
from tests.support.gateway import ADMIN_PASSWORD
from tests.support.site import Site
from tests.support.terminal import ScriptedTerminal, connect_terminal

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CONTACTS = (
    Contact("李娜", "relative", "13800000011"),
    Contact("王强", "neighbour", "13800000012"),
    Contact("网格员 赵明", "grid_worker", "13800000013"),
)
STATION = Contact("幸福社区服务站", "service_station", "0571-88880000")
ADDRESS = "幸福路 12 号 3 单元 401 室"
MEDICAL = "2 型糖尿病，注射胰岛素"


def import_elders(site: Site) -> None:
    """The elder of terminals[4] with three contacts; a neighbour whose list names the
    village's service station — imported with ``python -m gateway elders import``."""
    elder, neighbour = site.terminals[4], site.terminals[8]
    assert elder.region == neighbour.region
    records = [
        ElderRecord(elder.terminal_id, ADDRESS, "钥匙盒密码 4711", MEDICAL, "杭州话", True,
                    CONTACTS),
        ElderRecord(neighbour.terminal_id, "幸福路 14 号", contacts=(STATION,)),
    ]  # fmt: skip
    csv_file = site.root / "elders.csv"
    csv_file.write_text(format_elders(records), encoding="utf-8")
    config = site.root / "elders-import.toml"
    config.write_text(
        f'[registry]\npath = "{site.registry_path}"\n[store]\npath = "{site.root / "gateway.db"}"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "gateway", "elders", "import", str(csv_file), "--config",
         str(config), "--actor", "village-staff"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "2 created" in done.stdout


async def open_kiosk(url: str, page: Page) -> None:
    await sign_in(page, url, "admin", ADMIN_PASSWORD)
    await page.wait_for_url("**/console/")
    await page.goto(f"{url}/console/kiosk")
    await page.wait_for_selector("#live[data-state=live]")


async def kiosk_sounds(page: Page, at_least: int) -> None:
    async with asyncio.timeout(15):
        # The page's CSP forbids Playwright's wait_for_function (eval): poll its counter.
        while await page.evaluate("window.kiosk.alarms") < at_least:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    assert await page.evaluate("window.kiosk.audio") == "running"
    assert await page.locator("#sound-gate").is_hidden()


async def reload(page: Page) -> None:
    """Load the page again. The alarm's page also reloads itself while only its call
    sequence moves on; when that navigation wins, wait for it instead."""
    try:
        await page.goto(page.url)
    except PlaywrightError as exc:
        if "interrupted by another navigation" not in str(exc):
            raise
        await page.wait_for_load_state()


async def emergency(d: District, page: Page, terminal: ScriptedTerminal) -> None:
    """The sequence runs while the operator has the alarm open."""
    await terminal.alert("e1", "emergency", ts=time.time())
    row = page.locator(f"#alarms li.alarm[data-key='{terminal.terminal_id}/e1']")
    await expect(row).to_be_visible(timeout=10_000)
    await row.click()
    await expect(page.locator("#address")).to_have_text(ADDRESS)
    await expect(page.locator("#medical")).to_contain_text(MEDICAL)
    await expect(page.locator("#place .village")).to_have_text(terminal_village(d, terminal))
    async with asyncio.timeout(30):
        ack = await terminal.wait_ack("e1", "accepted")
    assert (ack["by"], ack.get("eta_s")) == ("网格员 赵明", 480)
    await reload(page)
    calls = page.locator("#attempts tbody tr")
    await expect(calls).to_have_count(3)
    outcomes = await page.eval_on_selector_all(
        "#attempts tbody tr", "r => r.map(x => x.dataset.outcome)"
    )
    assert outcomes == ["declined", "no_answer", "accepted"]
    timeline = await page.eval_on_selector_all("#timeline li", "r => r.map(x => x.dataset.action)")
    assert timeline.count("dispatch.notified") == 3
    assert "dispatch.declined" in timeline
    assert "dispatch.no_answer" in timeline
    assert timeline[-1] == "accepted"
    events = [e for e in d.center.events if e.data.get("alert_id") == "e1"]
    calls_sent = [e.data["responder"]["name"] for e in events if e.type == "alert.dispatch"]
    assert calls_sent == [c.name for c in CONTACTS]
    [confirmation] = [e for e in events if e.type == "alert.dispatch.accepted"]
    assert confirmation.data["brief"]["access"] == "钥匙盒密码 4711"


def terminal_village(d: District, terminal: ScriptedTerminal) -> str:
    return next(t.region[2] for t in d.site.terminals if t.terminal_id == terminal.terminal_id)


async def meal(url: str, page: Page, terminal: ScriptedTerminal) -> None:
    await page.goto(f"{url}/console/")
    await terminal.alert("m1", "meal", ts=time.time())
    row = page.locator(f"#services li.alarm[data-key='{terminal.terminal_id}/m1']")
    await expect(row).to_be_visible(timeout=10_000)
    assert await page.locator(f"#alarms li[data-key='{terminal.terminal_id}/m1']").count() == 0
    await row.click()
    select = "#service-assign-form select[name=provider]"
    provider = page.locator(f"{select} option", has_text=STATION.name)
    value = await provider.get_attribute("value")
    assert value is not None
    await page.select_option(select, value)
    await page.click("#service-assign-form button")
    await expect(page.locator("#service")).to_have_attribute("data-status", "assigned")
    async with asyncio.timeout(10):
        assigned = await terminal.wait_ack("m1", "accepted")
    assert assigned["by"] == STATION.name
    await page.fill("#complete-form input[name=note]", "午餐已送到")
    await page.click("#complete-form button")
    async with asyncio.timeout(10):
        resolved = await terminal.wait_ack("m1", "resolved")
    assert resolved.get("note") == "午餐已送到"


async def report(url: str, page: Page) -> None:
    await page.goto(f"{url}/console/reports")
    await expect(page.locator("#r-emergencies")).to_have_text("1")
    await expect(page.locator("#r-within")).to_have_text("100.0%")
    await expect(page.locator("#r-unanswered")).to_have_text("1")
    await expect(page.locator("#r-services")).to_have_text("1 / 1")
    total = page.locator("#report tr.total")
    await expect(total).to_contain_text("100.0%")


async def test_who_goes_to_the_elder(site: Site, broker: ManagedProcess) -> None:
    import_elders(site)
    phone = TelephonyOptions(plan=parse_plan("decline:0.3,never,accept:0.3"), eta_s=480)
    dispatch: dict[str, object] = {"answer_timeout_s": 5, "sweep_interval_s": 0.2}
    elder = site.terminals[4]
    password = site.passwords[elder.terminal_id]
    async with (
        district(site, terminals=1, telephony=phone, dispatch=dispatch) as d,
        connect_terminal(site.broker_port, elder.terminal_id, password) as terminal,
        chromium() as browser,
        chromium(KIOSK_ARGS) as wall_browser,
    ):  # fmt: skip
        assert d.gateway is not None
        url = f"http://127.0.0.1:{d.gateway.http_port}"
        wall = await new_page(wall_browser, {"width": 1920, "height": 1080})
        await open_kiosk(url, wall)
        page = await new_page(browser)
        await sign_in(page, url, "admin", ADMIN_PASSWORD)
        await page.wait_for_selector("#live[data-state=live]")

        await emergency(d, page, terminal)
        await kiosk_sounds(wall, 1)
        await meal(url, page, terminal)
        await report(url, page)

        await wall.reload()
        await wall.wait_for_selector("#live[data-state=live]")
        d.fleet.press(d.fleet.terminal_ids[0], AlertKind.EMERGENCY)
        await kiosk_sounds(wall, 1)  # counted afresh after the reload, still no click
        assert await wall.locator("#waiting li").count() == 1
