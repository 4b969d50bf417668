"""One command-line run of a fleet: the run's settings, the run, and its summary output."""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

from device_sim.report import counts_table, latency_table, print_tables
from device_sim.terminals.cost import Cost, rss_bytes
from device_sim.terminals.credentials import load_credentials
from device_sim.terminals.fleet import Fleet, FleetObserver
from device_sim.terminals.options import Broker, FleetOptions
from device_sim.terminals.scenario import Scenario, parse_weights
from device_sim.terminals.summary import Snapshot, Summary
from firmware_protocol.messages import Stage

#: One process may hold at most this many open files; keep room for the rest.
MAX_TERMINALS_PER_PROCESS = 19_000


@dataclass(frozen=True, slots=True)
class RunSpec:
    """Every setting of a ``terminals`` run, as given on the command line."""

    credentials: Path
    broker_host: str = "127.0.0.1"
    broker_port: int = 1883
    count: int | None = None
    mqtt5: bool = False
    keepalive: int = 60
    duration: float = 60.0
    alert_rate: float = 0.0
    kinds: str = ""
    health_interval: float = 0.0
    status_interval: float = 60.0
    dangerous_fraction: float = 0.0
    self_test_interval: float = 0.0
    offline_fraction: float = 0.0
    offline_for: float = 10.0
    malformed_rate: float = 0.0
    storm: int = 0
    storm_window: float = 10.0
    storm_at: float = 1.0
    grace: float = 10.0
    settle_stage: Stage = Stage.RECEIVED
    connect_concurrency: int = 200
    connect_timeout: float = 120.0
    warmup: float = 0.0
    processes: int = 1
    seed: int | None = None
    tls: bool = False
    ca_file: Path | None = None
    connect_rate: float = 0.0
    shard_index: int | None = None  # set in child processes
    progress_jsonl: bool = False  # child processes report progress as JSON lines
    await_start: bool = False  # child processes start their scenario on the parent's line

    def broker(self) -> Broker:
        """Where to connect."""
        try:
            return Broker(
                self.broker_host, self.broker_port, self.mqtt5, self.keepalive, self.tls,
                self.ca_file,
            )  # fmt: skip
        except ValueError as exc:
            if str(exc).startswith("ca_file"):
                raise ValueError("--ca-file: --tls needs the site CA") from None
            raise

    def scenario(self) -> Scenario:
        """The scenario these settings describe."""
        weights = parse_weights(self.kinds) if self.kinds else None
        return Scenario(
            duration_s=self.duration,
            alert_rate=self.alert_rate,
            **({"kind_weights": weights} if weights is not None else {}),
            storm_count=self.storm,
            storm_window_s=self.storm_window,
            storm_at_s=self.storm_at,
            offline_fraction=self.offline_fraction,
            offline_for_s=self.offline_for,
            malformed_rate=self.malformed_rate,
        )

    def fleet_options(self) -> FleetOptions:
        """Fleet options with the scenario."""
        return FleetOptions(
            status_interval_s=self.status_interval,
            health_interval_s=self.health_interval,
            dangerous_fraction=self.dangerous_fraction,
            self_test_interval_s=self.self_test_interval,
            connect_concurrency=self.connect_concurrency,
            connect_rate=self.connect_rate,
            connect_timeout_s=self.connect_timeout,
            hold_start=self.await_start,
            warmup_s=self.warmup,
            offline_for_s=self.offline_for,
            grace_s=self.grace,
            settle_stage=self.settle_stage,
            seed=self.seed,
            scenario=self.scenario(),
        )

    def check(self, terminals: int) -> None:
        """Validate everything once; ``ValueError`` names the option."""
        self.broker()
        self.fleet_options()
        if self.processes < 1:
            raise ValueError("--processes: must be >= 1")
        per_process = -(-terminals // self.processes)
        if per_process > MAX_TERMINALS_PER_PROCESS:
            wanted = -(-terminals // MAX_TERMINALS_PER_PROCESS)
            raise ValueError(
                f"--processes: {terminals} terminals need at least {wanted} processes "
                f"(at most {MAX_TERMINALS_PER_PROCESS} per process)"
            )

    def for_shard(self, index: int, total: int, sheet: Path | None = None) -> RunSpec:
        """The settings of child ``index``: its share of the rates and of the storm.

        ``sheet`` is the child's own credentials sheet (its shard), read whole.
        """
        k = self.processes
        part = total * (index + 1) // k - total * index // k
        share = part / total if total else 0.0
        mine = self if sheet is None else replace(self, credentials=sheet, count=None)
        return replace(
            mine,
            alert_rate=self.alert_rate * share,
            malformed_rate=self.malformed_rate * share,
            connect_rate=self.connect_rate / k,
            storm=self.storm * (index + 1) // k - self.storm * index // k,
            seed=None if self.seed is None else self.seed + index,
            shard_index=index,
            progress_jsonl=True,
            await_start=True,
        )

    def to_args(self) -> Iterator[str]:
        """Command-line arguments that reproduce these settings."""
        flags = {
            "--credentials": self.credentials,
            "--broker-host": self.broker_host,
            "--broker-port": self.broker_port,
            "--count": self.count,
            "--keepalive": self.keepalive,
            "--duration": self.duration,
            "--alert-rate": self.alert_rate,
            "--kinds": self.kinds or None,
            "--health-interval": self.health_interval,
            "--status-interval": self.status_interval,
            "--dangerous-fraction": self.dangerous_fraction,
            "--self-test-interval": self.self_test_interval,
            "--offline-fraction": self.offline_fraction,
            "--offline-for": self.offline_for,
            "--malformed-rate": self.malformed_rate,
            "--storm": self.storm,
            "--storm-window": self.storm_window,
            "--storm-at": self.storm_at,
            "--grace": self.grace,
            "--settle-stage": self.settle_stage.value,
            "--connect-concurrency": self.connect_concurrency,
            "--connect-timeout": self.connect_timeout,
            "--warmup": self.warmup,
            "--processes": self.processes,
            "--seed": self.seed,
            "--ca-file": self.ca_file,
            "--connect-rate": self.connect_rate,
            "--shard": self.shard_index,
        }
        for flag, value in flags.items():
            if value is not None:
                yield from (flag, str(value))
        if self.mqtt5:
            yield "--mqtt5"
        if self.tls:
            yield "--tls"
        if self.progress_jsonl:
            yield "--progress-jsonl"
        if self.await_start:
            yield "--await-start"


class JsonLinesProgress:
    """Progress for a parent process: one JSON snapshot per line on stdout."""

    def update(self, snapshot: Snapshot) -> None:
        """Write ``snapshot`` as a line."""
        sys.stdout.write(json.dumps(snapshot.to_json()) + "\n")
        sys.stdout.flush()


@contextlib.contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Call ``stop()`` on SIGINT/SIGTERM instead of dying, so a summary still comes out."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def run_fleet(spec: RunSpec, observer: FleetObserver | None) -> Summary:
    """Run this process's fleet (or its shard of it) to the end of the scenario."""
    raise_open_files_limit()
    before = rss_bytes()
    # A child process's sheet is already its shard (written by the parent).
    credentials = load_credentials(spec.credentials, spec.count)
    fleet = Fleet(
        spec.broker(), credentials, spec.fleet_options(), observer=observer, rss_start=before
    )
    with stop_on_signals(fleet.stop):
        if not spec.await_start:
            return await fleet.run()
        async with asyncio.TaskGroup() as tg:
            gate = tg.create_task(release_on_stdin(fleet), name="start-gate")
            summary = await fleet.run()
            gate.cancel()
        return summary


#: The line a parent writes on a child's stdin when every process is online.
START_LINE = b"start\n"


async def release_on_stdin(fleet: Fleet) -> None:
    """Release ``fleet``'s scenario on the first line on stdin (or its end: the parent
    is gone, and a child must not wait for it)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
    )
    try:
        await reader.readline()
    finally:
        transport.close()
    fleet.release_start()


def raise_open_files_limit() -> None:
    """Let this process use as many sockets as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def write_summary(path: Path, summary: Summary, *, samples: bool) -> None:
    """Write the summary as JSON (with raw latency samples when ``samples``)."""
    path.write_text(json.dumps(summary.to_json(samples=samples), indent=2) + "\n", "utf-8")


def render_summary(console: Console, summary: Summary) -> None:
    """The end-of-run tables: alerts, acks, connections, and latency percentiles."""
    acked = summary.acknowledged
    alerts = counts_table(
        "Alerts",
        [
            ("terminals (connected)", f"{summary.terminals} ({summary.connected})"),
            ("alerts sent", summary.alerts_sent),
            *((f"  {kind}", n) for kind, n in summary.alerts_by_kind.items()),
            *((f"acknowledged {stage}", acked.get(stage, 0)) for stage in map(str, Stage)),
            ("lost (no received)", summary.lost),
            ("retransmissions", summary.retransmissions),
            ("duplicates acked", summary.duplicate_acks),
            ("late acks (ignored)", summary.late_acks),
            ("unknown acks", summary.unknown_acks),
            ("vitals alerts", summary.vitals_alerts),
            ("dangerous reports without alert", summary.dangerous_unalerted),
        ],
    )
    links = counts_table(
        "Connections and publications",
        [
            ("connect failures", summary.connect_failures),
            *((f"  {reason}", n) for reason, n in summary.connect_errors.items()),
            ("reconnects", summary.reconnects),
            ("drops (ungraceful)", summary.drops),
            *((f"published {label}", n) for label, n in summary.published.items()),
            ("publish failures", summary.publish_failures),
            ("skipped while offline", summary.skipped_offline),
            ("outbox dropped", summary.outbox_dropped),
            ("bad downlink", summary.bad_downlink),
            *((f"command {name}", n) for name, n in summary.commands.items()),
        ],
    )
    latency = {name: stats.to_json() for name, stats in summary.latency.items()}
    print_tables(
        console, alerts, links, cost_table(summary.cost), latency_table("Latency", latency)
    )


def _figure(value: float | None, unit: str, scale: float = 1.0, digits: int = 1) -> str:
    return "—" if value is None else f"{value / scale:,.{digits}f} {unit}"


def cost_table(cost: Cost) -> Table:
    """Memory and CPU of the simulator, in total and per terminal."""
    per_10k = None if cost.steady_cores is None or not cost.terminals else (
        cost.steady_cores / cost.terminals * 10_000
    )  # fmt: skip
    rate = None if not cost.connect_s else cost.terminals / cost.connect_s
    return counts_table(
        "Cost (this simulator)",
        [
            ("terminals / processes", f"{cost.terminals:,} / {cost.processes}"),
            ("all online after", _figure(cost.connect_s, "s")),
            ("connect rate", _figure(rate, "terminals/s", digits=0)),
            ("CPU while connecting", _figure(cost.connect_cpu_s, "s")),
            ("RSS", _figure(cost.rss_bytes, "MB", 1e6)),
            ("RSS per terminal", _figure(cost.rss_per_terminal, "KB", 1e3, 2)),
            ("  added by the terminals", _figure(cost.rss_added_per_terminal, "KB", 1e3, 2)),
            ("CPU after connecting", _figure(cost.steady_cores, "cores", digits=3)),
            ("CPU per 10k terminals", _figure(per_10k, "cores", digits=3)),
            ("CPU per terminal", _figure(cost.steady_cpu_us_per_terminal_s, "µs/s", digits=2)),
            ("own GC pauses after connecting", f"{cost.gc_pauses:,} ({cost.gc_full:,} full)"),
            (
                "  longest / in all",
                f"{cost.gc_pause_longest_s * 1e3:,.1f} ms / {cost.gc_pause_total_s:,.2f} s",
            ),
        ],
    )
