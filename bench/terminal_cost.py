"""What one simulated terminal costs: memory and CPU of the simulator and of the brokers.

For each fleet size N: N terminal accounts over ⌈N / --per-broker⌉ Mosquittos started
here (each below the 20,000 open files a process may hold), and
``python -m device_sim terminals`` connecting all of them (paced) in two runs:

* idle — keepalive only (status hourly) for ``--idle`` s;
* district traffic — status every 60 s, health every 5 min and alarms at the district's
  rate scaled to N (acked ``received`` by an acker playing the gateway), for ``--traffic`` s.

The simulator reports its own RSS and CPU (summary ``cost``); the brokers are sampled from
``/proc``. The baseline, measured in the same run at ``--baseline`` terminals, is the
simulator's former way: one aiomqtt client and one task per terminal. Prints a table
with ratios against it and writes ``bench/results/terminal_cost.json``.

    python -m bench.terminal_cost --terminals 10000 50000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.procstat import Sampler
from bench.terminal_site import TerminalSite, make_site
from device_sim.procs import ManagedProcess, mosquitto

PY = sys.executable
DISTRICT_TERMINALS = 170_000
PER_PROCESS = 17_000  # terminals per simulator process (open files: 20,000 at most)


@dataclass(frozen=True, slots=True)
class Load:
    """What the terminals do during the measured phase."""

    name: str
    seconds: float
    status_s: float
    health_s: float
    district_alarms_per_s: float


@dataclass
class Run:
    """One measured run: the simulator's summary cost and the brokers' share."""

    terminals: int
    load: str
    simulator: dict[str, Any] = field(default_factory=dict)
    brokers: dict[str, float] = field(default_factory=dict)


def _simulator_argv(site: TerminalSite, n: int, load: Load, rate: float, out: Path) -> list[str]:
    alarms = load.district_alarms_per_s * n / DISTRICT_TERMINALS
    return [
        PY, "-m", "device_sim", "terminals", "--credentials", str(site.sheet), "--count", str(n),
        "--processes", str(-(-n // PER_PROCESS)), "--connect-rate", str(rate),
        "--connect-timeout", "600", "--duration", str(load.seconds),
        "--status-interval", str(load.status_s), "--health-interval", str(load.health_s),
        "--alert-rate", str(alarms), "--grace", "30", "--no-progress", "--summary-json", str(out),
    ]  # fmt: skip


def measure_simulator(
    site: TerminalSite, brokers: list[int], n: int, load: Load, rate: float
) -> Run:
    """Run the simulator once; its own cost plus the brokers' over the steady phase."""
    out = site.root / f"summary-{n}-{load.name}.json"
    argv = _simulator_argv(site, n, load, rate, out)
    proc = ManagedProcess(argv, site.root / f"terminals-{n}-{load.name}.log")
    with Sampler({"brokers": brokers}) as sampler, proc:
        started = time.monotonic()
        assert proc.proc is not None
        proc.proc.wait(timeout=load.seconds + 900)
    if proc.proc.returncode != 0 or not out.exists():
        raise RuntimeError(f"simulator failed ({proc.proc.returncode}):\n{proc.tail()}")
    summary = json.loads(out.read_text())
    cost = summary["cost"]
    # The steady phase starts once all are online and lasts the scenario; leave margins
    # for the interpreter's start and the settling of the connect burst.
    steady_from = started + (cost["connect_s"] or 0.0) + 5.0
    result = Run(n, load.name, simulator=cost | {"lost": summary["lost"],
                 "alerts_sent": summary["alerts_sent"], "connected": summary["connected"],
                 "connect_failures": summary["connect_failures"],
                 "reconnects": summary["reconnects"],
                 "published": summary["published"]})  # fmt: skip
    result.brokers = sampler.window("brokers", steady_from, steady_from + load.seconds - 5.0)
    result.brokers["count"] = len(brokers)
    return result


def measure_baseline(site: TerminalSite, n: int, load: Load) -> dict[str, Any]:
    """The former way, one aiomqtt client and task per terminal, under ``load``."""
    argv = [PY, "-m", "bench.terminal_actors", "aiomqtt", "--credentials", str(site.sheet),
            "--count", str(n), "--status-interval", str(load.status_s),
            "--health-interval", str(load.health_s), "--steady", str(load.seconds)]  # fmt: skip
    proc = ManagedProcess(argv, site.root / f"aiomqtt-{n}-{load.name}.log")
    with proc:
        assert proc.proc is not None
        proc.proc.wait(timeout=load.seconds + 600)
    lines = [line for line in proc.log_path.read_text().splitlines() if line.startswith("{")]
    if proc.proc.returncode != 0 or not lines:
        raise RuntimeError(f"aiomqtt baseline failed:\n{proc.tail()}")
    doc: dict[str, Any] = json.loads(lines[-1])
    return doc


def per_terminal(cost: dict[str, Any]) -> dict[str, float]:
    """RSS added and CPU per terminal (µs of CPU per terminal per second)."""
    n = cost["terminals"]
    cores = cost["steady_cpu_s"] / cost["steady_s"] if cost["steady_s"] else float("nan")
    return {
        "rss_added_per_terminal_bytes": (cost["rss_bytes"] - cost["rss_start_bytes"]) / n,
        "rss_per_terminal_bytes": cost["rss_bytes"] / n,
        "cores": cores,
        "cpu_us_per_terminal_s": cores / n * 1e6,
        "connect_s": cost["connect_s"],
        "connect_rate": n / cost["connect_s"] if cost["connect_s"] else float("nan"),
    }


def _start_brokers(site: TerminalSite, stack: ExitStack) -> list[int]:
    pids = []
    for index, broker in enumerate(site.brokers):
        proc = mosquitto(broker.conf, site.root / f"mosquitto-{index:02d}.log")
        stack.enter_context(proc).wait_port("127.0.0.1", broker.port)
        assert proc.proc is not None
        pids.append(proc.proc.pid)
    return pids


def _start_acker(site: TerminalSite, stack: ExitStack) -> None:
    ports = [str(b.port) for b in site.brokers]
    argv = [PY, "-m", "bench.terminal_actors", "ack", f"--password={site.acker_password}",
            "--ports", *ports]  # fmt: skip
    stack.enter_context(ManagedProcess(argv, site.root / "acker.log"))
    time.sleep(2.0)  # subscribed before the first alarm


def run(args: argparse.Namespace, console: Console) -> dict[str, Any]:
    idle = Load("idle", args.idle, 3600.0, 0.0, 0.0)
    traffic = Load("traffic", args.traffic, 60.0, 300.0, args.district_alarms)
    loads = [load for load in (idle, traffic) if load.name in args.loads]
    sizes = sorted({args.baseline, *args.terminals})
    result: dict[str, Any] = {"args": {k: str(v) for k, v in vars(args).items()}, "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-terminals-") as tmp, ExitStack() as stack:
        site = make_site(Path(tmp), max(sizes), args.per_broker)
        pids = _start_brokers(site, stack)
        console.print(f"{len(pids)} brokers for {site.terminals:,} terminals")
        base = {}
        for load in loads:
            console.print(f"baseline: aiomqtt, {args.baseline:,} terminals, {load.name} …")
            base[load.name] = per_terminal(measure_baseline(site, args.baseline, load))
        result["baseline"] = base
        _start_acker(site, stack)
        for n in sizes:
            used = -(-n // args.per_broker)
            for load in loads:
                console.print(f"simulator: {n:,} terminals on {used} brokers, {load.name} …")
                measured = measure_simulator(site, pids[:used], n, load, args.connect_rate)
                result["runs"].append(_entry(measured, base[load.name]))
    report(console, result)
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "terminal_cost.json").write_text(json.dumps(result, indent=2))
    return result


def _entry(measured: Run, base: dict[str, float]) -> dict[str, Any]:
    mine = per_terminal(measured.simulator)
    brokers = measured.brokers
    n = measured.terminals
    return {
        "terminals": n,
        "load": measured.load,
        "simulator": mine | {k: measured.simulator[k] for k in (
            "processes", "rss_bytes", "lost", "alerts_sent", "connected", "connect_failures",
            "reconnects", "published")},
        "brokers": brokers | {
            "rss_per_terminal_bytes": brokers["rss_bytes"] / n,
            "cpu_us_per_terminal_s": brokers["cores"] / n * 1e6,
        },
        "ratio_rss_to_baseline": mine["rss_added_per_terminal_bytes"]
        / base["rss_added_per_terminal_bytes"],
        "ratio_cpu_to_baseline": mine["cpu_us_per_terminal_s"] / base["cpu_us_per_terminal_s"],
    }  # fmt: skip


COLUMNS = ("who", "terminals", "load", "connect s", "RSS/terminal KB", "CPU µs/terminal/s",
           "cores", "× baseline RSS", "× baseline CPU")  # fmt: skip


def _cells(figures: dict[str, Any], rss_key: str) -> list[str]:
    connect = figures.get("connect_s")
    return [
        "" if connect is None else f"{connect:.1f}",
        f"{figures[rss_key] / 1e3:.2f}",
        f"{figures['cpu_us_per_terminal_s']:.2f}",
        f"{figures['cores']:.3f}",
    ]


def report(console: Console, result: dict[str, Any]) -> None:
    """The table: baseline, then each run with its brokers' share below it."""
    table = Table(title="Cost per terminal (this machine, same run)")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    n = result["args"]["baseline"]
    for load, base in result["baseline"].items():
        cells = _cells(base, "rss_added_per_terminal_bytes")
        table.add_row("aiomqtt (baseline)", n, load, *cells, "1", "1")
    for entry in result["runs"]:
        sim, brokers = entry["simulator"], entry["brokers"]
        ratios = [f"{entry['ratio_rss_to_baseline']:.2f}", f"{entry['ratio_cpu_to_baseline']:.2f}"]
        cells = _cells(sim, "rss_added_per_terminal_bytes")
        table.add_row("simulator", f"{entry['terminals']:,}", entry["load"], *cells, *ratios)
        cells = _cells(brokers | {"connect_s": None}, "rss_per_terminal_bytes")
        table.add_row(f"  {brokers['count']} brokers", "", "", *cells, "", "")
    console.print(table)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.terminal_cost", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--terminals", type=int, nargs="+", default=[10_000, 50_000])
    p.add_argument("--baseline", type=int, default=2_000, help="aiomqtt baseline's terminals")
    p.add_argument("--per-broker", type=int, default=10_000, help="terminals per Mosquitto")
    p.add_argument("--idle", type=float, default=60.0, help="idle phase, s")
    p.add_argument("--traffic", type=float, default=120.0, help="district traffic phase, s")
    p.add_argument("--district-alarms", type=float, default=2.0,
                   help="alarms per second for the whole district (170,000 terminals)")  # fmt: skip
    p.add_argument("--connect-rate", type=float, default=4_000.0, help="connects per second")
    p.add_argument("--loads", nargs="+", choices=("idle", "traffic"), default=["idle", "traffic"])
    p.add_argument("--results-dir", type=Path, default=Path("bench/results"))
    return p


def run_default(results_dir: Path, quick: bool) -> dict[str, Any]:
    """``python -m bench``: 10,000 and 50,000 terminals (quick: 2,000 and 5,000, shorter)."""
    argv = ["--results-dir", str(results_dir)]
    if quick:
        argv += ["--terminals", "2000", "5000", "--baseline", "1000", "--idle", "20",
                 "--traffic", "30"]  # fmt: skip
    return run(parser().parse_args(argv), Console(width=150))


def main() -> None:
    run(parser().parse_args(), Console(width=150))


if __name__ == "__main__":
    main()
