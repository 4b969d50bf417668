"""Benchmark: alarms while terminals flood, all parts real and in one run.

Ten terminals (``device_sim terminals``) press alarms at 2/s against a single broker and
the gateway; a second phase adds flooder processes (``bench/flooder.py``: valid logins,
invalid payloads on their own topics) — on health/status only, then on every channel.
Printed per phase: press → ``received`` percentiles (and as a ratio to the no-flood
baseline of the same run), the flood rate the broker confirmed, and the accounting: what
the gateway rejected or shed plus what the broker dropped (``$SYS``) against what the
broker confirmed to the flooders.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import tomllib
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import tomli_w
from rich.console import Console
from rich.table import Table

from device_sim.brokers import SiteBrokers
from device_sim.procs import ManagedProcess, free_port
from gateway.provision import demo_district, provision_site
from gateway.topology import PortPlan

PY = sys.executable
ROOT = Path(__file__).resolve().parents[1]
LEGIT = 10


class Run:
    """One site, its broker and gateway, for every phase."""

    def __init__(self, root: Path, stack: ExitStack) -> None:
        self.root, self.stack = root, stack
        self.plain, self.gateway_port, self.http = free_port(), free_port(), free_port()
        ports = PortPlan((free_port(),), (self.plain,), gateway=self.gateway_port)
        site = provision_site(root, demo_district(LEGIT + 16), ports, persistence=False)
        self.creds = [(t.terminal_id, site.passwords[t.terminal_id]) for t in site.terminals]
        self.env = {**os.environ, "GATEWAY__MQTT__PASSWORD": site.gateway_password,
                    "GATEWAY_CONSOLE_ADMIN_PASSWORD": "bench-admin-password"}  # fmt: skip
        stack.enter_context(SiteBrokers(root, root / "logs"))
        doc = tomllib.loads((root / "gateway.toml").read_text(encoding="utf-8"))
        doc |= {"store": {"path": str(root / "gateway.db")}, "http": {"port": self.http},
                "console": {"enabled": False}}  # fmt: skip
        (root / "run.toml").write_text(tomli_w.dumps(doc), encoding="utf-8")
        argv = [PY, "-m", "gateway", "run", "-c", str(root / "run.toml"), "--log-level", "WARNING"]
        gateway = ManagedProcess(argv, root / "logs" / "gateway.log", env=self.env)
        stack.enter_context(gateway).wait_port("127.0.0.1", self.http, timeout=60)
        sheet = "".join(f"{t},{p}\n" for t, p in self.creds[:LEGIT])
        (root / "legit.csv").write_text("terminal_id,password\n" + sheet, encoding="utf-8")

    def counted(self) -> float:
        """Uplink messages the gateway rejected or shed, so far."""
        text = httpx.get(f"http://127.0.0.1:{self.http}/metrics").text
        prefixes = ("gateway_rejected_messages_total{", "gateway_shed_messages_total{")
        return sum(float(x.rsplit(" ", 1)[1]) for x in text.splitlines() if x.startswith(prefixes))

    def broker_dropped(self) -> float:
        """The broker's own count (``$SYS``, refreshed every 10 s)."""
        out = subprocess.run(
            ["mosquitto_sub", "-p", str(self.gateway_port), "-u", "gateway", "-P",
             self.env["GATEWAY__MQTT__PASSWORD"], "-i", "bench-sys", "-C", "1", "-W", "15",
             "-t", "$SYS/broker/publish/messages/dropped"],
            capture_output=True, text=True, timeout=30, check=False,
        ).stdout  # fmt: skip
        return float(out.strip() or 0)

    def sim_argv(self, summary: Path, seconds: float) -> list[str]:
        options = {
            "--credentials": self.root / "legit.csv", "--broker-port": self.plain,
            "--count": LEGIT, "--alert-rate": 2, "--duration": seconds, "--grace": 180,
            "--summary-json": summary,
        }  # fmt: skip
        return [PY, "-m", "device_sim", "terminals", "--no-progress", *_flat(options)]

    def flood_argv(self, n: int, seconds: float, channels: str) -> list[str]:
        terminal_id, password = self.creds[LEGIT + n]
        options = {
            "--port": self.plain, "--user": terminal_id, "--password": password,
            "--seconds": seconds, "--seed": n, "--big-every": 10**9, "--channels": channels,
        }  # fmt: skip
        return [PY, "-m", "bench.flooder", *_flat(options)]

    def phase(self, name: str, seconds: float, flooders: int, channels: str) -> dict[str, Any]:
        slug = "".join(c if c.isalnum() else "-" for c in name)
        summary = self.root / f"legit-{slug}.json"
        log = self.root / "logs" / f"legit-{slug}.log"
        sim = ManagedProcess(self.sim_argv(summary, seconds), log).start()
        time.sleep(2)  # connected
        before, dropped_before, started = self.counted(), self.broker_dropped(), time.monotonic()
        floods = [
            subprocess.Popen(self.flood_argv(n, seconds - 3, channels), stdout=subprocess.PIPE,
                             cwd=ROOT)
            for n in range(flooders)
        ]  # fmt: skip
        acked = sum(json.loads(f.communicate()[0])["acked"] for f in floods)
        flood_s = time.monotonic() - started
        assert sim.proc is not None
        sim.proc.wait(timeout=600)
        counted, last = self.counted(), -1.0
        while counted != last:  # until the gateway has drained what reached it
            time.sleep(2)
            last, counted = counted, self.counted()
        time.sleep(11)
        doc = json.loads(summary.read_text())
        received = doc["latency"]["press_to_received"]
        return {
            "phase": name, "flooders": flooders, "flood_rate": acked / flood_s if floods else 0,
            "flood_acked": acked, "rejected_or_shed": counted - before,
            "broker_dropped": self.broker_dropped() - dropped_before, "alarms": received["count"],
            "lost": doc["lost"], "p50_s": received["p50"], "p99_s": received["p99"],
        }  # fmt: skip


def _flat(options: dict[str, object]) -> list[str]:
    """``--option=value`` each, so a value starting with ``-`` stays a value."""
    return [f"{name}={value}" for name, value in options.items()]


def run(results_dir: Path, quick: bool = False) -> dict[str, Any]:
    seconds, flooders = (12.0, 4) if quick else (25.0, 8)
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        bench = Run(Path(tmp), stack)
        phases = [
            bench.phase("no flood", seconds, 0, ""),
            bench.phase("health/status flood", seconds, flooders, "health,status"),
            bench.phase("flood on every channel", seconds, flooders, "alert,health,status"),
        ]
    result = {"bench": "flood", "quick": quick, "load_average": os.getloadavg(), "phases": phases}
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "flood.json").write_text(json.dumps(result, indent=2))
    _print(phases)
    return result


def _print(phases: list[dict[str, Any]]) -> None:
    base = phases[0]["p99_s"] or float("nan")
    table = Table(title="Alarms while terminals flood (one broker, this machine)")
    for column in ("phase", "flood msg/s", "counted / confirmed", "p50 received",
                   "p99 received", "p99 ÷ no flood", "lost"):  # fmt: skip
        table.add_column(column)
    for p in phases:
        accounted = p["rejected_or_shed"] + p["broker_dropped"]
        ratio = f"{accounted / p['flood_acked']:.3f}" if p["flood_acked"] else "-"
        table.add_row(
            p["phase"], f"{p['flood_rate']:,.0f}", ratio, f"{p['p50_s'] * 1000:,.0f} ms",
            f"{p['p99_s'] * 1000:,.0f} ms", f"{p['p99_s'] / base:,.1f}×", str(p["lost"]),
        )  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    run(Path("bench/results"), quick="--quick" in sys.argv)
