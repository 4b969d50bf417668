"""Benchmark of the operator console: press → visible in an open feed, in a real browser.

A gateway process (console on), a simulated fleet and headless Chromium; a
MutationObserver in the page stamps when each alarm's row first appears. The baseline,
measured in the same run, is press → ``received`` at the terminal: the ratio says how much
the console adds on top of the alarm path. Then 1,000 alarms are left open and new
presses are timed again, to show the feed stays responsive.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import tomli_w
from playwright.async_api import Page, async_playwright
from rich.console import Console
from rich.table import Table

from bench.alarm_path import Bench, wait_healthy
from device_sim.procs import free_port
from device_sim.terminals.credentials import Credential
from device_sim.terminals.fleet import Fleet
from device_sim.terminals.options import Broker, FleetOptions
from firmware_protocol.messages import AlertKind, Stage

PY = sys.executable
ADMIN_PASSWORD = "bench-console-admin"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip
OBSERVER = """
window.__seen = {};
new MutationObserver(() => {
  for (const el of document.querySelectorAll('li.alarm[data-key]')) {
    if (!(el.dataset.key in window.__seen)) window.__seen[el.dataset.key] = Date.now();
  }
}).observe(document.body, {childList: true, subtree: true});
"""


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def start_gateway(bench: Bench) -> int:
    http_port = free_port()
    config = {
        "mqtt": {"port": bench.gateway_port, "username": "gateway", "client_id": "gw-console"},
        "registry": {"path": str(bench.root / "terminals.csv")},
        "store": {"path": str(bench.root / "console.db")},
        "http": {"port": http_port},
        "console": {"feed_max_alerts": 2000},
    }
    path = bench.root / "console.toml"
    path.write_text(tomli_w.dumps(config))
    env = {"PATH": "/usr/bin:/bin", "GATEWAY__MQTT__PASSWORD": bench.gateway_password,
           "GATEWAY_CONSOLE_ADMIN_PASSWORD": ADMIN_PASSWORD}  # fmt: skip
    proc = bench.start("gateway-console", [PY, "-m", "gateway", "run", "-c", str(path),
                       "--log-level", "WARNING"], env)  # fmt: skip
    proc.wait_port("127.0.0.1", http_port, timeout=60)
    wait_healthy(http_port)
    return http_port


async def open_feed(page: Page, url: str) -> None:
    await page.goto(f"{url}/console/login")
    await page.fill("input[name=username]", "admin")
    await page.fill("input[name=password]", ADMIN_PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_selector("#live[data-state=live]", timeout=30_000)
    await page.evaluate(OBSERVER)


async def press_and_time(
    fleet: Fleet, page: Page, terminals: list[str], rate: float
) -> dict[str, float]:
    """Press once per terminal at ``rate``/s; latency to the row and to ``received``."""
    pressed: dict[str, float] = {}
    for terminal in terminals:
        alert_id = fleet.press(terminal, AlertKind.EMERGENCY)
        pressed[f"{terminal}/{alert_id}"] = time.time()
        await asyncio.sleep(1 / rate)
    keys = json.dumps(list(pressed))
    await page.wait_for_function(f"{keys}.every((k) => k in window.__seen)", timeout=60_000)
    seen: dict[str, float] = await page.evaluate("window.__seen")
    console_ms = [seen[k] - pressed[k] * 1000 for k in pressed]
    received_ms = []
    for key in pressed:
        terminal, alert_id = key.split("/")
        record = await fleet.wait_stage(terminal, alert_id, Stage.RECEIVED)
        latency = record.latency(Stage.RECEIVED)
        if latency is not None:
            received_ms.append(latency * 1000)
    return {
        "alarms": len(pressed),
        "console_p50_ms": statistics.median(console_ms),
        "console_p99_ms": _pct(console_ms, 0.99),
        "received_p99_ms": _pct(received_ms, 0.99),
    }


async def measure(bench: Bench, quick: bool) -> dict[str, Any]:
    http_port = start_gateway(bench)
    url = f"http://127.0.0.1:{http_port}"
    open_count = 200 if quick else 1000
    creds = [Credential(t, p) for t, p in bench.creds[: open_count + 100]]
    fleet = Fleet(Broker(port=bench.broker_port), creds, FleetOptions(status_interval_s=300))
    async with asyncio.TaskGroup() as tg, async_playwright() as pw:
        runner = tg.create_task(fleet.run(), name="fleet")
        async with asyncio.timeout(120):
            await fleet.wait_connected()
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = await browser.new_context(
            viewport={"width": 1280, "height": 800}, bypass_csp=True
        )
        page = await context.new_page()
        await open_feed(page, url)
        ids = [c.terminal_id for c in creds]
        nominal = await press_and_time(fleet, page, ids[: 50 if quick else 100], rate=5)
        for terminal in ids[100 : 100 + open_count]:
            fleet.press(terminal, AlertKind.MEAL)
        await page.wait_for_function(
            f"document.querySelectorAll('li.alarm').length >= {open_count}", timeout=120_000
        )
        loaded = await press_and_time(fleet, page, ids[:20], rate=5)
        rows = await page.evaluate("document.querySelectorAll('li.alarm').length")
        await browser.close()
        fleet.stop()
        await runner
    return {"nominal": nominal, "with_open_alarms": {**loaded, "open_rows": rows}}


def run(results_dir: Path, quick: bool) -> dict[str, Any]:
    console = Console()
    console.print("console: press → visible in an open feed (headless Chromium) …")
    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp, ExitStack() as stack:
        bench = Bench(Path(tmp), stack, 1200)
        result = asyncio.run(measure(bench, quick))
    nominal = result["nominal"]
    result["ratio_console_to_received_p99"] = nominal["console_p99_ms"] / nominal["received_p99_ms"]
    result["targets"] = {"console_p99_ms": 1000}
    table = Table(title="Operator console (one run, this machine)")
    for column in ("measure", "value", "target"):
        table.add_column(column)
    table.add_row("press→received p99 ms (baseline)", f"{nominal['received_p99_ms']:.0f}", "")
    table.add_row("press→console p99 ms", f"{nominal['console_p99_ms']:.0f}", "≤ 1000")
    table.add_row(
        "ratio console / received (p99)", f"{result['ratio_console_to_received_p99']:.1f}", ""
    )
    loaded = result["with_open_alarms"]
    table.add_row(f"with {loaded['open_rows']} open rows: press→console p99 ms",
                  f"{loaded['console_p99_ms']:.0f}", "≤ 1000")  # fmt: skip
    console.print(table)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "console.json").write_text(json.dumps(result, indent=2))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--results-dir", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    run(args.results_dir, args.quick)


if __name__ == "__main__":
    main()
