"""Benchmark of the alarm path, all parts real and on the same Mosquitto in one run.

(a) baseline: the receive ceiling of a bare aiomqtt consumer, QoS 1, no processing;
(a') the same with the lean client the gateway's sessions run on;
(b) the gateway's sustained intake on a realistic mix (10 % alerts, 60 % health,
    30 % status) with alerts durable (synchronous=FULL), webhooks on and sent from the
    gateway's forwarding process (``webhook.own_process``, as a district runs it);
    reported as (b)/(a) and (b)/(a');
(b'') the same with forwarding in the gateway's own process (the default for a small
    site), to show what the second process buys;
(b') the same with forwarding off (intake alone);

Each throughput phase is a drain: the receiver opens its kept session (clean session
off) and leaves, the load generators publish the whole load into the broker's queue for
it, and then the receiver comes back and takes the backlog. While it drains, nothing
else runs but the broker (and, for (b), the command center): the load generators'
~1.3 cores are not on the machine, so each rate is the receiver's own ceiling and not
what they left of two cores — the same conditions for every phase, so the ratios
compare the receivers.
(c) latency press → ``received`` and press → command center, at nominal load and in an
    alarm storm (5,000 alarms from distinct terminals within 10 s).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import tomli_w
from rich.console import Console
from rich.table import Table

from bench.procstat import MACHINE, STOLEN, Sampler
from device_sim.brokers import SiteBrokers
from device_sim.procs import ManagedProcess, free_port
from gateway.broker import MIB, BrokerSettings, QueueLimits
from gateway.provision import demo_district, provision_site
from gateway.topology import PortPlan

PY = sys.executable
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = "bench-token-0123456789abcdef"
LOADGENS = 2
#: How often a throughput phase reads the gateway's count from /metrics. A read costs the
#: gateway ~13 ms of its event loop (the whole exposition, rendered): read every 50 ms, it
#: was 27 % of the loop thread's samples (py-spy) in the phase it measured. The rate is
#: taken between two reads, both inside the phase, so reading less often costs no
#: precision.
POLL_S = 0.5
#: Where the machine's CPU went in a throughput phase, by part (cores, mean over the
#: phase's measured window), so a ratio below target says which part ran short.
PARTS = ("receiver", "command_center", "broker", MACHINE, STOLEN)
#: Their column heads, short enough for an 80-column table.
HEADERS = ("recv", "cc", "broker", "all", "steal")
#: How many messages the broker queues for one receiver's session: above the full run's
#: load (100,000), so a drain starts with all of it.
DRAIN_QUEUE = 150_000


class Bench:
    def __init__(self, root: Path, stack: ExitStack, terminals: int) -> None:
        self.root, self.stack = root, stack
        # Terminals on the broker's loopback plain listener, the gateway on its own.
        self.broker_port, self.gateway_port = free_port(), free_port()
        ports = PortPlan((free_port(),), (self.broker_port,), gateway=self.gateway_port)
        # The broker queues a phase's whole load for its receiver (the gateway's and the
        # consumers' sessions): a site's 10,000 would drop most of it.
        limits = QueueLimits(messages=DRAIN_QUEUE, bytes=512 * MIB, inflight=1000)
        settings = BrokerSettings(persistence=False, gateway_side=limits)
        site = provision_site(
            root, demo_district(terminals), ports, broker_settings=settings,
            credentials_tls=False,
        )  # fmt: skip
        self.creds = list(site.passwords.items())
        self.gateway_password = site.gateway_password
        self.brokers = stack.enter_context(SiteBrokers(root, root / "logs"))

    def sampler(self, receiver: ManagedProcess) -> Sampler:
        """CPU of the receiver and the broker, every quarter second (add the rest)."""
        broker = [_pid(self.brokers.process(name)) for name in self.brokers.names]
        return Sampler({"receiver": [_pid(receiver)], "broker": broker}, 0.25, machine=True)

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> ManagedProcess:
        proc = ManagedProcess(argv, self.root / f"{name}.log", env=env)
        return self.stack.enter_context(proc)

    def fill(self, messages: int, tag: str) -> list[ManagedProcess]:
        """Publish ``messages`` (the mix) into the broker and return once it has them all:
        the load generators' processes, finished."""
        loaders = self.loadgen(messages, tag)
        _wait(loaders, 600)
        return loaders

    def loadgen(self, messages: int, tag: str) -> list[ManagedProcess]:
        per = 100
        return [
            ManagedProcess(
                [PY, "-m", "bench.loadgen", "--port", str(self.broker_port), "--credentials",
                 str(self.root / "credentials.csv"), "--skip", str(i * per), "--terminals",
                 str(per), "--messages", str(messages // LOADGENS), "--tag", f"{tag}{i}"],
                self.root / f"loadgen-{tag}{i}.log",
            ).start()
            for i in range(LOADGENS)
        ]  # fmt: skip


def _pid(proc: ManagedProcess) -> int:
    assert proc.proc is not None
    return proc.proc.pid


def cpu_split(sampler: Sampler, start: float, end: float) -> dict[str, float]:
    """Each running part's mean cores over [start, end]."""
    running = [part for part in PARTS if part in sampler.groups or part in (MACHINE, STOLEN)]
    return {part: sampler.window(part, start, end)["cores"] for part in running}


def _wait(procs: list[ManagedProcess], timeout: float) -> None:
    for proc in procs:
        assert proc.proc is not None
        proc.proc.wait(timeout=timeout)


def baseline(bench: Bench, messages: int, client: str = "aiomqtt") -> dict[str, Any]:
    """(a) / (a') the bare consumer's drain rate with ``client``."""
    ready, go = bench.root / f"consumer-{client}.ready", bench.root / f"consumer-{client}.go"
    consumer = bench.start(f"consumer-{client}", [
        PY, "-m", "bench.consumer", "--client", client, "--port", str(bench.gateway_port),
        "--user", "gateway", f"--password={bench.gateway_password}", "--expect", str(messages),
        "--ready-file", str(ready), "--go-file", str(go)])  # fmt: skip
    deadline = time.monotonic() + 30
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    loaders = bench.fill(messages, "a" if client == "aiomqtt" else "l")
    with bench.sampler(consumer) as sampler:
        go.write_text("go")
        assert consumer.proc is not None
        consumer.proc.wait(timeout=600)
    result = _last_json(consumer)
    return {"messages": result["messages"], "seconds": result["seconds"],
            "rate": result["messages"] / result["seconds"], **offered(loaders),
            "cpu_cores": cpu_split(sampler, result["first"], result["last"])}  # fmt: skip


def _last_json(proc: ManagedProcess) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(proc.log_path.read_text().strip().splitlines()[-1])
    return doc


def offered(loaders: list[ManagedProcess]) -> dict[str, float]:
    """What the load generators offered: their messages over the longest one's time from
    first publish to last PUBACK. A receiver that took fewer messages than were sent was
    the limit (the broker dropped what overflowed its queue for it); one that took them
    all, at the offer's rate, did not reach its own."""
    done = [_last_json(proc) for proc in loaders]
    sent = sum(int(doc["messages"]) for doc in done)
    return {"offered_rate": sent / max(float(doc["seconds"]) for doc in done),
            "sent": float(sent)}  # fmt: skip


def start_gateway(
    bench: Bench, name: str, center_port: int, webhook: bool = True, log: str | None = None,
    own_process: bool = True,
) -> tuple[ManagedProcess, int]:  # fmt: skip
    """A gateway named ``name`` (its config, database and client id), logging to ``log``
    (default: its name): started again under the same name it resumes its sessions.
    ``own_process``: its webhooks go out from its forwarding process."""
    http_port = free_port()
    config = {
        "mqtt": {"port": bench.gateway_port, "username": "gateway", "client_id": f"gw-{name}"},
        "registry": {"path": str(bench.root / "terminals.csv")},
        "store": {"path": str(bench.root / f"{name}.db"), "synchronous": "FULL"},
        "webhook": {
            "enabled": webhook,
            "url": f"http://127.0.0.1:{center_port}/webhook",
            "own_process": own_process,
        },
        "http": {"port": http_port},
        "api": {"tokens": [{"name": "cc", "token_env": "BENCH_TOKEN"}]},
    }
    path = bench.root / f"{name}.toml"
    path.write_text(tomli_w.dumps(config))
    env = {"PATH": "/usr/bin:/bin", "GATEWAY__MQTT__PASSWORD": bench.gateway_password,
           "GATEWAY__WEBHOOK__SECRET": SECRET, "BENCH_TOKEN": TOKEN,
           "GATEWAY_CONSOLE_ADMIN_PASSWORD": "bench-admin-password"}  # fmt: skip
    proc = bench.start(log or name, [PY, "-m", "gateway", "run", "-c", str(path), "--log-level",
                              "WARNING"], env)  # fmt: skip
    proc.wait_port("127.0.0.1", http_port, timeout=60)
    wait_healthy(http_port)
    return proc, http_port


def wait_healthy(http_port: int, timeout: float = 60) -> None:
    """Until /healthz says the broker link is up (subscriptions are in place)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=f"http://127.0.0.1:{http_port}") as http:
        while time.monotonic() < deadline:
            try:
                if http.get("/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    raise TimeoutError("gateway did not become healthy")


def start_center(bench: Bench, name: str, gateway_port: int, accept: bool) -> int:
    port = free_port()
    argv = [PY, "-m", "device_sim", "command-center", "--port", str(port),
            "--gateway-api", f"http://127.0.0.1:{gateway_port}"]  # fmt: skip
    if accept:
        argv += ["--accept-after", "1"]
    env = {"PATH": "/usr/bin:/bin", "CC_WEBHOOK_SECRET": SECRET, "CC_GATEWAY_TOKEN": TOKEN}
    bench.start(name, argv, env).wait_port("127.0.0.1", port)
    return port


def processed(http: httpx.Client) -> float:
    total = 0.0
    for line in http.get("/metrics").text.splitlines():
        if line.startswith(("gateway_messages_total{", "gateway_rejected_messages_total{")):
            total += float(line.rsplit(" ", 1)[1])
    return total


def gateway_throughput(
    bench: Bench, messages: int, webhook: bool, own_process: bool = True
) -> dict[str, Any]:
    """(b) messages stored (and alerts acked) per second, measured from /metrics.

    With ``webhook`` every event is also forwarded (batched signed webhooks) to a
    command-center simulator running on the same two cores, from the gateway's
    forwarding process if ``own_process``. The gateway starts once to open its sessions
    (a lone gateway keeps them), stops, and is started again on the filled queues. Its
    CPU is that of its whole process tree (the forwarding process included).
    """
    name = ("b-forwarding" if own_process else "b-inline") if webhook else "b-intake"
    center_port = free_port()
    gateway, _port = start_gateway(bench, f"gateway-{name}", center_port, webhook,
                                   own_process=own_process)  # fmt: skip
    gateway.stop()
    loaders = bench.fill(messages, {"b-forwarding": "b", "b-inline": "i"}.get(name, "c"))
    if webhook:
        env = {"PATH": "/usr/bin:/bin", "CC_WEBHOOK_SECRET": SECRET, "CC_GATEWAY_TOKEN": TOKEN}
        center = bench.start(f"center-{name}", [PY, "-m", "device_sim", "command-center",
                             "--port", str(center_port)], env)  # fmt: skip
        center.wait_port("127.0.0.1", center_port)
    gateway, http_port = start_gateway(
        bench, f"gateway-{name}", center_port, webhook, log=f"gateway-{name}-drain",
        own_process=own_process,
    )  # fmt: skip
    sampling = bench.sampler(gateway)
    if webhook:
        sampling.add("command_center", [_pid(center)])
    with httpx.Client(base_url=f"http://127.0.0.1:{http_port}") as http, sampling as sampler:
        first, last = None, (time.monotonic(), 0.0)
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            count = processed(http)
            now = time.monotonic()
            if first is None and count > 0:
                first = (now, count)
            if count > last[1]:
                last = (now, count)
            if count >= messages or (first and now - last[0] > 10):
                break
            time.sleep(POLL_S)
        now, count = last
    assert first is not None
    seconds = now - first[0]
    done = count - first[1]
    gateway.stop()
    return {"messages": count, "seconds": seconds, "rate": done / seconds,
            **offered(loaders), "cpu_cores": cpu_split(sampler, first[0], now)}  # fmt: skip


def latency(bench: Bench, name: str, extra: list[str], terminals: int) -> dict[str, Any]:
    """(c) one terminal-simulator run against a fresh gateway and command center."""
    center_port = free_port()
    gateway, _http_port = start_gateway(bench, f"gateway-{name}", center_port)
    env = {"PATH": "/usr/bin:/bin", "CC_WEBHOOK_SECRET": SECRET, "CC_GATEWAY_TOKEN": TOKEN}
    bench.start(f"center-{name}", [PY, "-m", "device_sim", "command-center", "--port",
                str(center_port)], env).wait_port("127.0.0.1", center_port)  # fmt: skip
    summary = bench.root / f"terminals-{name}.json"
    sim = bench.start(f"terminals-{name}", [
        PY, "-m", "device_sim", "terminals", "--credentials", str(bench.root / "credentials.csv"),
        "--broker-port", str(bench.broker_port), "--count", str(terminals), "--no-progress",
        "--settle-stage", "delivered", "--grace", "60", "--summary-json", str(summary),
        "--processes", "2" if terminals > 1000 else "1", *extra])  # fmt: skip
    assert sim.proc is not None
    sim.proc.wait(timeout=900)
    with httpx.Client(base_url=f"http://127.0.0.1:{center_port}") as http:
        records = http.get("/records").json()
    gateway.stop()
    doc = json.loads(summary.read_text())
    return {"terminals": doc, "center": records}


def _p(stats: dict[str, Any], key: str) -> float:
    value = stats.get(key) or 0.0
    return float(value) * 1000


def _latencies(run: dict[str, Any]) -> dict[str, float]:
    lat = run["terminals"]["latency"]
    center = run["center"].get("latency_s", {}).get("alert_receive", {})
    return {
        "alerts": float(run["terminals"]["alerts_sent"]),
        "lost": float(run["terminals"]["lost"]),
        "received_p50_ms": _p(lat["press_to_received"], "p50"),
        "received_p99_ms": _p(lat["press_to_received"], "p99"),
        "delivered_p99_ms": _p(lat["press_to_delivered"], "p99"),
        "center_p50_ms": _p(center, "p50"),
        "center_p99_ms": _p(center, "p99"),
    }


def run(results_dir: Path, quick: bool) -> dict[str, Any]:
    console = Console()
    messages = 20_000 if quick else 100_000
    storm = 1000 if quick else 5000
    nominal = ["--duration", "10" if quick else "30", "--alert-rate", "20",
               "--status-interval", "60", "--health-interval", "60"]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-alarm-") as tmp, ExitStack() as stack:
        bench = Bench(Path(tmp), stack, max(storm, 500) + 200)
        console.print(f"(a) bare aiomqtt consumer, {messages} QoS 1 messages …")
        base = baseline(bench, messages)
        console.print(f"(a') bare consumer on the gateway's lean client, {messages} …")
        lean = baseline(bench, messages, "lean")
        console.print(
            "(b) gateway intake, same load, alerts durable, webhooks on (forwarding process) …"
        )
        gateway = gateway_throughput(bench, messages, webhook=True)
        console.print("(b'') the same with forwarding in the gateway's own process …")
        inline = gateway_throughput(bench, messages, webhook=True, own_process=False)
        console.print("(b') the same with forwarding off (intake alone) …")
        intake_only = gateway_throughput(bench, messages, webhook=False)
        console.print("(c) latency at nominal load (20 alarms/s over 500 terminals) …")
        nominal_run = _latencies(latency(bench, "nominal", nominal, 500))
        console.print(f"(c) alarm storm: {storm} alarms from distinct terminals in 10 s …")
        storm_args = ["--duration", "12", "--storm", str(storm), "--storm-window", "10",
                      "--status-interval", "300"]  # fmt: skip
        storm_run = _latencies(latency(bench, "storm", storm_args, storm))
    result = {
        "quick": quick,
        "baseline_consumer": base,
        "baseline_lean_consumer": lean,
        "gateway_intake": gateway,
        "ratio_gateway_to_baseline": gateway["rate"] / base["rate"],
        "ratio_gateway_to_lean_baseline": gateway["rate"] / lean["rate"],
        "gateway_intake_forwarding_inline": inline,
        "ratio_inline_to_baseline": inline["rate"] / base["rate"],
        "gateway_intake_without_forwarding": intake_only,
        "ratio_intake_only_to_baseline": intake_only["rate"] / base["rate"],
        "ratio_intake_only_to_lean_baseline": intake_only["rate"] / lean["rate"],
        "nominal": nominal_run,
        "storm": storm_run,
        "targets": {
            "ratio": 0.8,
            "nominal_received_p99_ms": 50,
            "storm_received_p99_ms": 1000,
            "nominal_center_p99_ms": 250,
        },
    }
    _report(console, result)
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "alarm_path.json").write_text(json.dumps(result, indent=2))
    return result


def _report(console: Console, r: dict[str, Any]) -> None:
    table = Table(title="Alarm path (one run, same broker, this machine)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("(a) bare aiomqtt consumer, msg/s", f"{r['baseline_consumer']['rate']:.0f}", "")
    table.add_row(
        "(a') bare lean-client consumer, msg/s", f"{r['baseline_lean_consumer']['rate']:.0f}", ""
    )
    table.add_row("(b) gateway intake, msg/s", f"{r['gateway_intake']['rate']:.0f}", "")
    table.add_row("(b)/(a)", f"{r['ratio_gateway_to_baseline']:.2f}", "≥ 0.8")
    table.add_row("(b)/(a')", f"{r['ratio_gateway_to_lean_baseline']:.2f}", "")
    table.add_row(
        "(b'') forwarding in the gateway's process, msg/s",
        f"{r['gateway_intake_forwarding_inline']['rate']:.0f}",
        "",
    )
    table.add_row("(b'')/(a)", f"{r['ratio_inline_to_baseline']:.2f}", "")
    table.add_row(
        "(b') intake, forwarding off, msg/s",
        f"{r['gateway_intake_without_forwarding']['rate']:.0f}",
        "",
    )
    table.add_row("(b')/(a)", f"{r['ratio_intake_only_to_baseline']:.2f}", "≥ 0.8")
    table.add_row("(b')/(a')", f"{r['ratio_intake_only_to_lean_baseline']:.2f}", "")
    for name, target_rx, target_cc in (("nominal", "≤ 50", "≤ 250"), ("storm", "≤ 1000", "")):
        run_ = r[name]
        table.add_row(
            f"{name}: alarms / lost", f"{run_['alerts']:.0f} / {run_['lost']:.0f}", "0 lost"
        )
        table.add_row(f"{name}: press→received p99 ms", f"{run_['received_p99_ms']:.0f}", target_rx)
        table.add_row(f"{name}: press→center p99 ms", f"{run_['center_p99_ms']:.0f}", target_cc)
    console.print(table)
    console.print(_cpu_table(r))


def _cpu_table(r: dict[str, Any]) -> Table:
    """Each throughput phase: what the receiver took (msg/s, draining its queued
    backlog), the share of all that was sent it took, and the cores each part used
    meanwhile: recv (the consumer or the gateway), cc (the command center), the broker,
    all (the whole machine) and steal (by the hypervisor).

    A share below 100 % means the broker dropped some of the load while queueing it
    (``DRAIN_QUEUE`` too small); with the machine near two cores, a rate is also what
    the other parts left of them."""
    table = Table(title="Throughput phases: drain rate, and CPU by part (cores)")
    for name in ("phase", "took", "share", *HEADERS):
        table.add_column(name, justify="left" if name == "phase" else "right")
    phases = (("(a)", "baseline_consumer"), ("(a')", "baseline_lean_consumer"),
              ("(b)", "gateway_intake"), ("(b'')", "gateway_intake_forwarding_inline"),
              ("(b')", "gateway_intake_without_forwarding"))  # fmt: skip
    for label, key in phases:
        phase = r[key]
        cores = phase.get("cpu_cores", {})
        sent = phase.get("sent")
        table.add_row(
            label, f"{phase['rate']:.0f}",
            f"{phase['messages'] / sent:.1%}" if sent else "—",
            *(_cores(cores.get(part)) for part in PARTS),
        )  # fmt: skip
    return table


def _cores(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.2f}"  # NaN: no samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller loads, for a smoke run")
    parser.add_argument("--results-dir", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    run(args.results_dir, args.quick)


if __name__ == "__main__":
    main()
