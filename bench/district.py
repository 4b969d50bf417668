"""The whole district on this machine, all parts real: ``make bench-district``.

For each fleet size (10,000, 50,000 and 170,000 terminals by default):

1. ``python -m gateway provision`` writes a district of 17 town brokers bridged to a
   district broker (each town broker below the 20,000 open files a process may hold);
2. the brokers (``device_sim.brokers``), the command-center simulator and the gateway
   start, each its own process;
3. ``python -m device_sim terminals`` connects every terminal, each with its own login,
   to its town's broker (paced, spread over processes of < 20,000 connections), then
   plays district traffic — status every 60 s, health every 5 min, alarms at the
   district's rate scaled to the fleet — for ``--sustain`` seconds, then a storm of
   5,000 emergencies from distinct terminals within 10 s, and waits for every alarm to
   reach ``delivered``.

Printed and written to ``bench/results/district.json``: time to connect everyone; CPU
(cores) and RSS of the gateway, the brokers, the simulator and the command center over
the sustained phase; alarms lost; press → ``received`` and press → command center p99,
nominal and in the storm; events forwarded per second; database growth per hour; how
fast one core was before and after the run (``bench/speed.py``). The
targets are the district's: gateway under one core, 0 alarms lost, press → received
≤ 100 ms nominal and ≤ 1 s in the storm, press → command center ≤ 250 ms and ≤ 2 s.
"""

from __future__ import annotations

import argparse
import json
import math
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import tomli_w
from rich.console import Console
from rich.table import Table

from bench.alarm_path import wait_healthy
from bench.probe import UplinkProbe
from bench.procstat import MACHINE, STOLEN, Sampler, tree, written_bytes
from bench.speed import core_speed
from device_sim.brokers import SiteBrokers
from device_sim.procs import ManagedProcess, free_port
from device_sim.terminals.stats import LatencyStats
from device_sim.terminals.summary import SPLIT
from gateway.topology import DISTRICT as DISTRICT_BROKER

PY = sys.executable
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
DISTRICT = 170_000
TOWNS = 17
PER_PROCESS = 17_000  # terminals per simulator process (open files: 20,000 at most)
ALARMS_PER_S = 2.0  # the whole district's button presses, nominal
WARMUP_S = 30.0  # after everyone is online (their "online" burst), before the scenario
TARGETS = {
    "gateway_cores": 1.0,
    "lost": 0,
    "nominal_received_p99_ms": 100,
    "storm_received_p99_ms": 1000,
    "nominal_center_p99_ms": 250,
    "storm_center_p99_ms": 2000,
}


@dataclass(frozen=True, slots=True)
class Scale:
    terminals: int
    sustain_s: float
    storm: int = 5000
    storm_window_s: float = 10.0
    #: The whole district's nominal presses per second, scaled to the fleet.
    alarms_per_s: float = ALARMS_PER_S


def port_block(count: int, start: int = 20_000) -> int:
    """The first of ``count`` consecutive free ports below the kernel's range for
    outgoing connections (so none is taken between being chosen and bound)."""
    base = start
    while base + count < 32_000:
        try:
            for port in range(base, base + count):
                with socket.socket() as probe:
                    probe.bind(("127.0.0.1", port))
        except OSError:
            base = port + 1
            continue
        return base
    raise RuntimeError("no block of free ports")


TEXT_EVERY_S = 20.0


class MetricsPoller:
    """Polls the gateway's /metrics, the database's size and the bytes the gateway (its
    process tree) has written (``/proc/PID/io``: its WAL and database writes, its
    webhook requests and acks, and its logs) every few seconds."""

    NAMES = ("gateway_messages_total", "gateway_deliveries_total")

    def __init__(self, http_port: int, db: Path, pid: int, interval_s: float = 5.0) -> None:
        self.samples: list[tuple[float, dict[str, float]]] = []
        #: The whole /metrics text now and then, to keep the one from before the storm.
        self.texts: list[tuple[float, str]] = []
        self._url = f"http://127.0.0.1:{http_port}/metrics"
        self._db = db
        self._pid = pid
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MetricsPoller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _read(self, http: httpx.Client) -> dict[str, float]:
        files = (self._db, self._db.with_name(self._db.name + "-wal"))
        found = {"db_bytes": float(sum(p.stat().st_size for p in files if p.exists()))}
        # The gateway's process tree: its forwarding process writes the confirms.
        counts = [written_bytes(pid) for pid in tree(self._pid)]
        if counts and counts[0] is not None:
            found["written"] = float(sum(n for n in counts if n is not None))
        try:
            text = http.get(self._url, timeout=10).text
        except httpx.HTTPError:
            return found
        now = time.monotonic()
        if not self.texts or now - self.texts[-1][0] >= TEXT_EVERY_S:
            self.texts.append((now, text))
        for line in text.splitlines():
            if line.startswith("gateway_messages_total{"):
                found["messages"] = found.get("messages", 0.0) + float(line.rsplit(" ", 1)[1])
            elif line.startswith("gateway_deliveries_total{") and 'outcome="ok"' in line:
                found["forwarded"] = found.get("forwarded", 0.0) + float(line.rsplit(" ", 1)[1])
        return found

    def _run(self) -> None:
        with httpx.Client() as http:
            while not self._stop.is_set():
                self.samples.append((time.monotonic(), self._read(http)))
                self._stop.wait(self._interval)

    def rate(self, key: str, start: float, end: float) -> float:
        inside = [(t, s[key]) for t, s in self.samples if start <= t <= end and key in s]
        if len(inside) < 2:
            return float("nan")
        (t0, v0), (t1, v1) = inside[0], inside[-1]
        return (v1 - v0) / (t1 - t0)


class District:
    """One fleet size: everything started in ``root``, stopped by ``stack``."""

    def __init__(self, root: Path, stack: ExitStack, scale: Scale, console: Console) -> None:
        self.root, self.stack, self.scale, self.console = root, stack, scale, console
        self.logs = root / "logs"
        self.site = root / "site"

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None,
              ) -> ManagedProcess:  # fmt: skip
        full = {"PATH": "/usr/bin:/bin", **(env or {})}
        proc = ManagedProcess(argv, self.logs / f"{name}.log", env=full)
        return self.stack.enter_context(proc)

    def provision(self) -> float:
        plain, tls = port_block(TOWNS), port_block(TOWNS, 24_000)
        started = time.monotonic()
        step = self.start("provision", [
            PY, "-m", "gateway", "provision", "--out", str(self.site), "--demo-terminals",
            str(self.scale.terminals), "--towns", str(TOWNS), "--topology", "district",
            "--plain-port", str(plain), "--tls-port", str(tls),
            "--gateway-port", str(free_port()), "--bridge-port", str(free_port()),
            "--credentials-plain"])  # fmt: skip
        assert step.proc is not None
        if step.proc.wait(timeout=1800) != 0:
            raise RuntimeError(f"provisioning failed:\n{step.tail()}")
        return time.monotonic() - started

    def gateway(self, center_port: int) -> tuple[ManagedProcess, int]:
        http_port = free_port()
        doc = _read_toml(self.site / "gateway.toml")
        doc.update({
            "store": {"path": str(self.root / "gateway.db"), "synchronous": "FULL"},
            "webhook": {"enabled": True, "url": f"http://127.0.0.1:{center_port}/webhook",
                        "own_process": True},
            "http": {"port": http_port},
            "intake": {"telemetry_queue_max": 500_000},
        })  # fmt: skip
        config = self.root / "gateway.toml"
        config.write_text(tomli_w.dumps(doc))
        env = _env_file(self.site / "gateway.env") | {
            "GATEWAY__WEBHOOK__SECRET": SECRET,
            "GATEWAY_CONSOLE_ADMIN_PASSWORD": secrets.token_urlsafe(12),
        }
        proc = self.start("gateway", [PY, "-m", "gateway", "run", "-c", str(config),
                                      "--log-level", "WARNING"], env)  # fmt: skip
        proc.wait_port("127.0.0.1", http_port, timeout=120)
        try:
            wait_healthy(http_port, timeout=120)
        except TimeoutError:
            raise RuntimeError(f"gateway did not become healthy:\n{proc.tail()}") from None
        return proc, http_port

    def probe(self) -> UplinkProbe:
        """The alarms' own subscriber on the district broker, with the gateway's login."""
        mqtt = _read_toml(self.site / "gateway.toml")["mqtt"]
        env = _env_file(self.site / "gateway.env")
        return UplinkProbe(mqtt["host"], int(mqtt["port"]), env["GATEWAY__MQTT__USERNAME"],
                           env["GATEWAY__MQTT__PASSWORD"])  # fmt: skip

    def center(self) -> tuple[ManagedProcess, int]:
        port = free_port()
        proc = self.start("command-center", [PY, "-m", "device_sim", "command-center",
                          "--port", str(port)], {"CC_WEBHOOK_SECRET": SECRET})  # fmt: skip
        proc.wait_port("127.0.0.1", port)
        return proc, port

    def terminals(self, summary: Path) -> ManagedProcess:
        s = self.scale
        alarm_rate = s.alarms_per_s * s.terminals / DISTRICT
        sheet = str(self.site / "credentials.csv")
        return self.start("terminals", [
            PY, "-m", "device_sim", "terminals", "--credentials", sheet,
            "--processes", str(max(1, -(-s.terminals // PER_PROCESS))), "--connect-rate", "4000",
            "--connect-timeout", "1200", "--warmup", str(WARMUP_S),
            "--duration", str(s.sustain_s + s.storm_window_s + 20),
            "--status-interval", "60", "--health-interval", "300",
            "--alert-rate", f"{alarm_rate:.4f}", "--storm", str(s.storm),
            "--storm-at", str(s.sustain_s), "--storm-window", str(s.storm_window_s),
            "--settle-stage", "delivered", "--grace", "120", "--no-progress",
            "--summary-json", str(summary)])  # fmt: skip


def run_scale(
    root: Path, scale: Scale, console: Console, results_dir: Path = Path("bench/results")
) -> dict[str, Any]:
    """Provision, start, play and measure one fleet size; its /metrics go to
    ``results_dir``."""
    speed_before = core_speed().best_ms  # the machine idle, before anything starts
    with ExitStack() as stack:
        d = District(root, stack, scale, console)
        console.print(f"[bold]{scale.terminals:,} terminals[/]: provisioning …")
        provision_s = d.provision()
        brokers = stack.enter_context(SiteBrokers(d.site, d.logs))
        center, center_port = d.center()
        gateway, http_port = d.gateway(center_port)
        groups = {"gateway": [_pid(gateway)], "command_center": [_pid(center)],
                  "brokers": [_pid(brokers.process(name)) for name in brokers.names],
                  # every alarm and every ack passes this one single-threaded process
                  "district_broker": [_pid(brokers.process(DISTRICT_BROKER))]}  # fmt: skip
        summary_path = root / "terminals.json"
        sampling = Sampler(groups, machine=True)
        probe = stack.enter_context(d.probe())
        polling = MetricsPoller(http_port, root / "gateway.db", _pid(gateway))
        with sampling as sampler, polling as poll:
            console.print("  connecting and playing district traffic …")
            started, started_wall = time.monotonic(), time.time()
            sim = d.terminals(summary_path)
            sampler.add("simulator", [_pid(sim)])
            assert sim.proc is not None
            sim.proc.wait(timeout=scale.sustain_s + 3600)
            ended = time.monotonic()
        if sim.proc.returncode != 0 or not summary_path.exists():
            raise RuntimeError(f"terminal simulator failed:\n{sim.tail()}")
        summary = json.loads(summary_path.read_text())
        nominal, storm = press_windows(
            summary["scenario_started"], scale.sustain_s, scale.storm_window_s
        )
        # The same nominal minutes on the monotonic clock the samplers use.
        window = (nominal[0] - started_wall + started, nominal[1] - started_wall + started)
        with httpx.Client(base_url=f"http://127.0.0.1:{center_port}") as http:
            nominal_cc = _center_p99(http, *nominal)
            storm_cc = _center_p99(http, *storm)
        uplink = {"nominal": probe.stats(*nominal), "storm": probe.stats(*storm)}
        alarms, arrivals = _stored_alarms(root / "gateway.db"), probe.arrivals()
        broker_to_intake = {
            "nominal": onward(arrivals, alarms, nominal),
            "storm": onward(arrivals, alarms, storm),
        }
        _keep_metrics(http_port, root, results_dir, poll.texts, window[1])
    result = _result(scale, provision_s, summary, sampler, poll, window, ended - started,
                     nominal_cc, storm_cc, len(alarms), uplink, broker_to_intake)  # fmt: skip
    # How fast one core was, idle, before and after (everything stopped): runs from
    # different hours compare only when these do (bench/speed.py).
    result["core_speed_ms"] = {"before": speed_before, "after": core_speed().best_ms}
    return result


def press_windows(
    starts: Sequence[float], sustain_s: float, storm_window_s: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The wall-clock windows ``[from, to)`` of the nominal presses and the storm's, for
    the figures that only know a press's time (the command center's, the probe's).

    Every simulator process plans its presses from its own scenario start
    (``starts``: one per process), so its storm begins ``sustain_s`` after it. The
    processes start together (released by their parent once every terminal is online,
    then the same warm-up in each), within a scheduler tick or so; the windows still
    allow for a spread. Nominal: from the last start to the first storm. The storm:
    from the first storm's beginning to the last one's end, with a second for a press
    dispatched late; the nominal presses of those seconds count with it.
    """
    first, last = min(starts), max(starts)
    nominal = (last, first + sustain_s)
    return nominal, (first + sustain_s, last + sustain_s + storm_window_s + 1.0)


def _result(
    scale: Scale, provision_s: float, summary: dict[str, Any], sampler: Sampler,
    poll: MetricsPoller, window: tuple[float, float], run_s: float,
    nominal_cc: float | None, storm_cc: float | None, stored: int,
    uplink: dict[str, LatencyStats], broker_to_intake: dict[str, LatencyStats],
) -> dict[str, Any]:  # fmt: skip
    lat = summary["latency"]
    procs = {name: sampler.window(name, *window) for name in (*sampler.groups, MACHINE, STOLEN)}
    growth = poll.rate("db_bytes", *window) * 3600
    return {
        "scale": asdict(scale),
        "provision_s": provision_s,
        "connect_s": summary["cost"]["connect_s"],
        "connected": summary["connected"],
        "connect_failures": summary["connect_failures"],
        "run_s": run_s,
        "processes": procs,
        "simulator_cost": summary["cost"],
        "alarms_sent": summary["alerts_sent"],
        "alarms_stored": stored,
        "lost": summary["lost"],
        "lost_alerts": summary.get("lost_alerts", []),
        "nominal_received_p99_ms": _ms(lat.get("nominal_press_to_received", {}).get("p99")),
        "storm_received_p99_ms": _ms(lat.get("storm_press_to_received", {}).get("p99")),
        "nominal_center_p99_ms": _ms(nominal_cc),
        "storm_center_p99_ms": _ms(storm_cc),
        "storm_delivered_p99_ms": _ms(lat.get("storm_press_to_delivered", {}).get("p99")),
        # press → received split at the gateway's publish of the ack (see the summary).
        **{
            f"{when}_{part}_p99_ms": _ms(lat.get(f"{when}_{part}", {}).get("p99"))
            for when in ("nominal", "storm")
            for part in SPLIT
        },
        # Every series' count, p50, p90, p99 and max: the shape of the tail, not its end.
        "latency_s": {
            name: {k: v for k, v in stats.items() if k != "samples"} for name, stats in lat.items()
        },
        # Press → district broker, from the probe beside the gateway (bench/probe.py).
        **{
            f"{when}_press_to_district_broker_p99_ms": _ms(stats.p99)
            for when, stats in uplink.items()
        },
        "uplink_probe_s": {when: stats.to_json() for when, stats in uplink.items()},
        # Then the district broker → the gateway's intake batch (see ``onward``).
        **{
            f"{when}_district_broker_to_intake_p99_ms": _ms(stats.p99)
            for when, stats in broker_to_intake.items()
        },
        "district_broker_to_intake_s": {w: s.to_json() for w, s in broker_to_intake.items()},
        "messages_per_s": poll.rate("messages", *window),
        "events_forwarded_per_s": poll.rate("forwarded", *window),
        "db_growth_bytes_per_h": growth,
        "gateway_written_bytes_per_s": poll.rate("written", *window),
    }


def _center_p99(http: httpx.Client, pressed_from: float, pressed_to: float) -> float | None:
    doc = http.get("/records", params={"pressed_from": pressed_from, "pressed_to": pressed_to})
    stats: dict[str, Any] = doc.json()["latency_s"]["alert_receive_window"]
    return stats.get("p99")


def _keep_metrics(
    http_port: int, root: Path, results_dir: Path, texts: list[tuple[float, str]],
    storm_at: float,
) -> None:  # fmt: skip
    """The gateway's /metrics at the end of the run and the last one taken before the
    storm (its histograms hold the nominal alarms alone), beside the results."""
    stem = results_dir / f"district-{_terminals_of(root)}-metrics"
    stem.parent.mkdir(parents=True, exist_ok=True)
    before = [text for at, text in texts if at < storm_at]
    if before:
        stem.with_name(f"{stem.name}-nominal.txt").write_text(before[-1])
    out = stem.with_name(f"{stem.name}.txt")
    try:
        text = httpx.get(f"http://127.0.0.1:{http_port}/metrics", timeout=10).text
    except httpx.HTTPError:
        return
    out.write_text(text)


def _keep_evidence(root: Path, out: Path, console: Console) -> None:
    """A run that lost an alarm keeps every process's log and the simulator's summary
    (with the lost alert ids) beside the results, for diagnosis."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(root / "logs", out / "logs")
    if (root / "terminals.json").exists():
        shutil.copy2(root / "terminals.json", out / "terminals.json")
    console.print(f"[red]alarms lost: logs and summary kept in {out}[/]")


def _terminals_of(root: Path) -> str:
    return root.name.split("-")[2] if root.name.count("-") >= 2 else root.name


#: A stored alarm: (terminal id, alert id, pressed at, received at), wall clock; its
#: ``received_at`` is when the gateway's intake batch that stored it began.
StoredAlarm = tuple[str, str, float, float]


def _stored_alarms(db: Path) -> list[StoredAlarm]:
    import sqlite3

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [(str(t), str(a), float(p), float(r)) for t, a, p, r in conn.execute(
            "SELECT terminal_id, alert_id, pressed_at, received_at FROM alerts"
            " WHERE origin = 'terminal'")]  # fmt: skip
    finally:
        conn.close()


def onward(
    arrivals: dict[tuple[str, str], float], alarms: Sequence[StoredAlarm],
    window: tuple[float, float],
) -> LatencyStats:  # fmt: skip
    """District broker → the gateway's intake, for the alarms pressed in ``window``: when
    the intake batch that stored each began, less its first arrival at the probe beside
    the gateway (same broker, same machine clock). What the probe saw and the gateway
    did not store (a lost alarm) is not in it, nor what the probe missed."""
    return LatencyStats.of(
        received - arrivals[(tid, aid)]
        for tid, aid, pressed, received in alarms
        if window[0] <= pressed < window[1] and (tid, aid) in arrivals
    )


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _pid(proc: ManagedProcess) -> int:
    assert proc.proc is not None
    return proc.proc.pid


def _read_toml(path: Path) -> dict[str, Any]:
    import tomllib

    return tomllib.loads(path.read_text(encoding="utf-8"))


def _env_file(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def _f(value: float | None, fmt: str = "{:,.0f}") -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else (
        fmt.format(value))  # fmt: skip


def report(console: Console, runs: list[dict[str, Any]]) -> None:
    table = Table(title="The district on one 2-core machine (all parts real, one run each)")
    table.add_column("measure")
    for run in runs:
        table.add_column(f"{run['scale']['terminals']:,} terminals", justify="right")
    table.add_column("target", justify="right")
    rows: list[tuple[str, Any, str]] = [
        ("one core, fixed work, ms: before / after the run (lower: faster)", _speed, ""),
        ("all online after, s", lambda r: _f(r["connect_s"], "{:.0f}"), ""),
        ("connect failures", lambda r: _f(r["connect_failures"]), "0"),
        ("gateway CPU, cores", lambda r: _f(r["processes"]["gateway"]["cores"], "{:.2f}"),
         "< 1"),
        ("gateway RSS, MB", lambda r: _mb(r["processes"]["gateway"]["rss_bytes"]), ""),
        ("brokers CPU, cores", lambda r: _f(r["processes"]["brokers"]["cores"], "{:.2f}"), ""),
        ("brokers RSS, MB", lambda r: _mb(r["processes"]["brokers"]["rss_bytes"]), ""),
        ("simulator CPU, cores", lambda r: _f(r["processes"]["simulator"]["cores"], "{:.2f}"),
         ""),
        ("simulator RSS, MB", lambda r: _mb(r["processes"]["simulator"]["rss_bytes"]), ""),
        ("  its own GC pauses, longest ms (full)", _sim_pauses, ""),
        ("command center CPU, cores",
         lambda r: _f(r["processes"]["command_center"]["cores"], "{:.2f}"), ""),
        ("whole machine busy, cores (of 2)",
         lambda r: _f(r["processes"].get(MACHINE, {}).get("cores"), "{:.2f}"), ""),
        ("  stolen by the hypervisor, cores",
         lambda r: _f(r["processes"].get(STOLEN, {}).get("cores"), "{:.2f}"), ""),
        ("  share of time a task waited for a core",
         lambda r: _f(r["processes"].get(MACHINE, {}).get("waiting"), "{:.0%}"), ""),
        ("waited for a core per run, ms: gateway / district broker / all brokers /"
         " simulator", _waits, ""),
        ("messages into the gateway /s", lambda r: _f(r["messages_per_s"]), ""),
        ("events forwarded /s", lambda r: _f(r["events_forwarded_per_s"]), ""),
        ("alarms sent / stored / lost",
         lambda r: f"{r['alarms_sent']:,} / {r['alarms_stored']:,} / {r['lost']}", "0 lost"),
        ("press → received p99, nominal, ms", lambda r: _f(r["nominal_received_p99_ms"]),
         "≤ 100"),
        ("  of it: press → gateway's ack p99, nominal, ms",
         lambda r: _f(r.get("nominal_press_to_gateway_ack_p99_ms")), ""),
        ("    of that: to the district broker, ms",
         lambda r: _f(r.get("nominal_press_to_district_broker_p99_ms")), ""),
        ("    then on to the gateway's intake, ms",
         lambda r: _f(r.get("nominal_district_broker_to_intake_p99_ms")), ""),
        ("  of it: gateway's ack → terminal p99, nominal, ms",
         lambda r: _f(r.get("nominal_gateway_ack_to_terminal_p99_ms")), ""),
        ("press → received p99, storm, ms", lambda r: _f(r["storm_received_p99_ms"]), "≤ 1000"),
        ("press → command center p99, nominal, ms",
         lambda r: _f(r["nominal_center_p99_ms"]), "≤ 250"),
        ("press → command center p99, storm, ms", lambda r: _f(r["storm_center_p99_ms"]),
         "≤ 2000"),
        ("database growth, MB/h", lambda r: _mb(r["db_growth_bytes_per_h"]), ""),
        ("gateway writes, MB/s", lambda r: _mb(r.get("gateway_written_bytes_per_s", math.nan)),
         ""),
    ]  # fmt: skip
    for name, cell, target in rows:
        table.add_row(name, *(cell(run) for run in runs), target)
    console.print(table)


def _speed(run: dict[str, Any]) -> str:
    speed = run.get("core_speed_ms")
    return "—" if speed is None else f"{speed['before']:,.0f} / {speed['after']:,.0f}"


def _waits(run: dict[str, Any]) -> str:
    """The scheduler's mean delay each time a part's thread became runnable: what a
    message met at each hop besides the work itself (all parts share two cores)."""
    procs = run["processes"]
    parts = ("gateway", "district_broker", "brokers", "simulator")
    return " / ".join(_f(procs.get(part, {}).get("wait_per_run_ms"), "{:.1f}") for part in parts)


def _sim_pauses(run: dict[str, Any]) -> str:
    """The simulator's longest collector pause after connecting: a delay its terminals
    saw that no real terminal would (``device_sim/terminals/gcpause.py``)."""
    cost = run["simulator_cost"]
    return f"{cost['gc_pause_longest_s'] * 1e3:,.0f} ({cost['gc_full']})"


def _mb(value: float) -> str:
    return _f(value / 1e6 if value == value else value, "{:,.0f}")


SCALES = {
    "full": [Scale(10_000, 180), Scale(50_000, 180), Scale(170_000, 600)],
    "quick": [Scale(5_000, 60, storm=1000)],
}


def run(results_dir: Path, quick: bool, scales: list[Scale] | None = None) -> dict[str, Any]:
    """``python -m bench`` calls this with ``quick``; ``make bench-district`` runs all."""
    console = Console()
    chosen = scales or SCALES["quick" if quick else "full"]
    runs = []
    for scale in chosen:
        with tempfile.TemporaryDirectory(prefix=f"bench-district-{scale.terminals}-") as tmp:
            runs.append(run_scale(Path(tmp), scale, console, results_dir))
            if runs[-1]["lost"]:
                _keep_evidence(Path(tmp), results_dir / f"district-{scale.terminals}-lost", console)
    report(console, runs)
    result = {"runs": runs, "targets": TARGETS, "quick": quick}
    results_dir.mkdir(parents=True, exist_ok=True)
    name = "district-quick.json" if quick else "district.json"
    (results_dir / name).write_text(json.dumps(result, indent=2))
    return result


def run_quick(results_dir: Path, quick: bool) -> dict[str, Any]:
    """``make bench`` runs the district's quick form only (the whole district is
    ``make bench-district``)."""
    return run(results_dir, quick=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5,000 terminals, 60 s")
    parser.add_argument("--terminals", type=int, nargs="*", help="fleet sizes instead")
    parser.add_argument("--sustain", type=float, default=None, help="sustained phase, s")
    parser.add_argument("--storm", type=int, default=5000)
    parser.add_argument(
        "--alarms-per-s", type=float, default=ALARMS_PER_S,
        help="the whole district's nominal presses per second, scaled to each fleet (more"
        " nominal alarms: a p99 decided by more of them)",
    )  # fmt: skip
    parser.add_argument("--results-dir", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    scales = None
    if args.terminals:
        scales = [Scale(n, args.sustain or 600, storm=min(args.storm, n),
                        alarms_per_s=args.alarms_per_s) for n in args.terminals]  # fmt: skip
    run(args.results_dir, args.quick, scales)


if __name__ == "__main__":
    main()
