"""``python -m device_sim demo`` (``make demo``): a whole district on this machine.

Starts, on loopback and free ports: the brokers of a freshly provisioned district (one
Mosquitto by default; ``--towns-bridged`` runs a broker per town bridged to a district
broker) with sample elders' records (addresses, medical notes, six contacts each), the
command-center simulator (whose telephony plays the responders the gateway calls), the
216-camera farm, the gateway, and the terminal fleet; prints where to look; stops
everything on Ctrl-C. Every part is a separate process
that meets the others only over the wire, as on a real site.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import time
import tomllib
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import tomli_w
import typer
from rich.console import Console
from rich.table import Table

from device_sim.brokers import SiteBrokers
from device_sim.procs import ManagedProcess, free_port

PY = sys.executable
SCENARIO = Path(__file__).resolve().parents[1] / "configs" / "demo-cameras.toml"
SCENARIO_CAMERAS = 200  # the scenario names cameras up to cam-199
HOST = "127.0.0.1"


def _secret_file(path: Path, value: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value)
    path.chmod(0o600)
    return str(path)


def _wait_for_file(path: Path, proc: ManagedProcess, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if not proc.running:
            raise RuntimeError(f"{proc.argv[2:4]} stopped:\n{proc.tail()}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear in {timeout}s")
        time.sleep(0.2)
    doc: dict[str, Any] = json.loads(path.read_text())
    return doc


def cameras_section(manifest: dict[str, Any], root: Path, towns: list[list[str]]) -> dict[str, Any]:
    """The gateway's ``[cameras]`` section for the farm's cameras."""
    facilities: dict[str, dict[str, Any]] = {}
    for n, row in enumerate(manifest["cameras"]):
        region = towns[n % len(towns)]
        facility = facilities.setdefault(
            row["facility"],
            {"id": row["facility"], "name": f"{region[-1]}养老服务中心", "region": region,
             "cameras": []},
        )  # fmt: skip
        facility["cameras"].append(
            {"id": row["id"], "name": f"{facility['name']} 摄像头", "url": row["url"],
             "username": row["username"],
             "password_file": _secret_file(root / "camera-secrets" / row["id"], row["password"])}
        )  # fmt: skip
    return {
        "enabled": True, "interval_seconds": 60, "concurrency": 24,
        "snapshot_dir": str(root / "cameras"), "facilities": list(facilities.values()),
        "daylight_hours": "00:00-24:00",  # the simulated scenes are daylit at any hour
    }  # fmt: skip


def _regions(registry: Path) -> list[list[str]]:
    seen: dict[tuple[str, ...], None] = {}
    for line in registry.read_text(encoding="utf-8").splitlines()[1:]:
        parts = line.split(",")
        seen.setdefault(tuple(parts[2:5]), None)
    return [list(r) for r in seen]


def gateway_config(root: Path, ports: dict[str, int], cameras: dict[str, Any]) -> dict[str, Any]:
    """The site's own settings (``site/gateway.toml`` from provisioning) plus the demo's."""
    doc: dict[str, Any] = tomllib.loads((root / "site" / "gateway.toml").read_text("utf-8"))
    return {
        **doc,
        "site": {**doc.get("site", {}), "name": "示范区智慧养老平台", "language": "zh"},
        "store": {"path": str(root / "gateway.db")},
        "webhook": {"enabled": True, "url": f"http://{HOST}:{ports['center']}/webhook"},
        "http": {"port": ports["gateway"]},
        "api": {"tokens": [{"name": "command-center", "token_env": "DEMO_CC_TOKEN"}]},
        "cameras": cameras,
        "dispatch": {"answer_timeout_s": 20},
    }


class Demo:
    """The processes of one demo run, stopped together by the ExitStack."""

    def __init__(self, root: Path, stack: ExitStack, console: Console) -> None:
        self.root = root
        self.stack = stack
        self.console = console
        self.logs = root / "logs"
        self.ports = {
            name: free_port() for name in ("broker", "broker-tls", "broker-gateway", "bridges",
                                           "gateway", "center")
        }  # fmt: skip
        self.webhook_secret = "whsec_" + secrets.token_urlsafe(24).replace("-", "A").replace(
            "_", "B"
        )
        self.cc_token = secrets.token_urlsafe(24)
        self.admin_password = secrets.token_urlsafe(9)
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1"}

    def start(
        self, name: str, argv: list[str], extra: dict[str, str] | None = None
    ) -> ManagedProcess:
        proc = ManagedProcess(argv, self.logs / f"{name}.log", env={**self.env, **(extra or {})})
        self.stack.enter_context(proc)
        return proc

    def site(self, terminals: int, bridged: bool) -> dict[str, str]:
        """Provision the district and start its brokers; the gateway's broker login."""
        site = self.root / "site"
        self.console.print(f"[bold]Provisioning {terminals} terminals[/] in {site}")
        argv = [PY, "-m", "gateway", "provision", "--out", str(site), "--demo-terminals",
                str(terminals), "--topology", "district" if bridged else "single",
                "--plain-port", str(self.ports["broker"]),
                "--tls-port", str(self.ports["broker-tls"]),
                "--gateway-port", str(self.ports["broker-gateway"]),
                "--bridge-port", str(self.ports["bridges"]), "--credentials-plain"]  # fmt: skip
        provision = self.start("provision", argv)
        if provision.proc is None or provision.proc.wait(timeout=600) != 0:
            raise RuntimeError(f"provisioning failed:\n{provision.tail()}")
        brokers = self.stack.enter_context(SiteBrokers(site, self.logs))
        self.broker_ports = [
            brokers.entry(name).port("terminals", tls=False)
            for name in brokers.names
            if any(x.role == "terminals" for x in brokers.entry(name).listeners)
        ]
        lines = (site / "gateway.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def cameras(self, count: int) -> dict[str, Any]:
        if not count:
            return {"enabled": False}
        self.console.print(
            f"[bold]Starting {count} simulated cameras[/] (a first run encodes clips)"
        )
        manifest = self.root / "cameras.json"
        argv = [PY, "-m", "device_sim", "cameras", "--count", str(count), "--base-port", "0",
                "--control-port", "0", "--manifest", str(manifest)]  # fmt: skip
        if count >= SCENARIO_CAMERAS:
            argv += ["--scenario", str(SCENARIO)]
        farm = self.start("cameras", argv)
        doc = _wait_for_file(manifest, farm, 300)
        return cameras_section(doc, self.root, _regions(self.root / "site" / "terminals.csv"))

    def center(self) -> None:
        gateway_api = f"http://{HOST}:{self.ports['gateway']}"
        # Responders called by the gateway answer like people: most accept within
        # seconds, some decline, some never pick up. Every alarm is closed after 150 s.
        center = self.start(
            "command-center",
            [PY, "-m", "device_sim", "command-center", "--port", str(self.ports["center"]),
             "--gateway-api", gateway_api, "--resolve-after", "150",
             "--answer-mix", "accept=0.55,decline=0.25,never=0.2", "--answer-delay", "3-18",
             "--responder", "指挥中心 张伟"],
            {"CC_WEBHOOK_SECRET": self.webhook_secret, "CC_GATEWAY_TOKEN": self.cc_token},
        )  # fmt: skip
        center.wait_port(HOST, self.ports["center"])

    def elders(self, config: Path, env: dict[str, str]) -> None:
        """Sample elders' records for every terminal, imported as a site would."""
        site = self.root / "site"
        for name, argv in (
            ("elders-sample", ["sample", "--registry", str(site / "terminals.csv"),
                               "--out", str(site / "elders.csv")]),
            ("elders-import", ["import", str(site / "elders.csv"), "--config", str(config),
                               "--actor", "demo"]),
        ):  # fmt: skip
            step = self.start(name, [PY, "-m", "gateway", "elders", *argv], env)
            if step.proc is None or step.proc.wait(timeout=300) != 0:
                raise RuntimeError(f"{name} failed:\n{step.tail()}")

    def gateway(self, login: dict[str, str], cameras: dict[str, Any]) -> None:
        config = self.root / "gateway.toml"
        config.write_text(tomli_w.dumps(gateway_config(self.root, self.ports, cameras)))
        extra = {
            **login, "GATEWAY__WEBHOOK__SECRET": self.webhook_secret,
            "DEMO_CC_TOKEN": self.cc_token, "GATEWAY_CONSOLE_ADMIN_PASSWORD": self.admin_password,
        }  # fmt: skip
        self.elders(config, extra)
        gateway = self.start(
            "gateway", [PY, "-m", "gateway", "run", "--config", str(config)], extra
        )
        gateway.wait_port(HOST, self.ports["gateway"], timeout=60)

    def terminals(self, count: int, alert_rate: float) -> None:
        """One fleet per terminal broker, each with the credentials that name its port."""
        sheets = _split_credentials(self.root / "site" / "credentials.csv", self.broker_ports)
        for port, (sheet, share) in sheets.items():
            self.start(f"terminals-{port}", [PY, "-m", "device_sim", "terminals",
                       "--credentials", str(sheet), "--broker-port", str(port),
                       "--processes", "2" if share > 2000 else "1", "--duration", "86400",
                       "--alert-rate", str(alert_rate * share / count),
                       "--health-interval", "120", "--dangerous-fraction", "0.02",
                       "--status-interval", "60", "--offline-fraction", "0.01",
                       "--offline-for", "240", "--no-progress"])  # fmt: skip


def _split_credentials(sheet: Path, ports: list[int]) -> dict[int, tuple[Path, int]]:
    """The credentials sheet split by the port of each terminal's broker URL."""
    lines = sheet.read_text(encoding="utf-8").splitlines()
    if len(ports) == 1:
        return {ports[0]: (sheet, len(lines) - 1)}
    rows: dict[int, list[str]] = {port: [] for port in ports}
    for line in lines[1:]:
        rows[int(line.rsplit(":", 1)[1])].append(line)
    found = {}
    for port, part in rows.items():
        path = sheet.with_name(f"credentials-{port}.csv")
        _secret_file(path, "\n".join([lines[0], *part]) + "\n")
        found[port] = (path, len(part))
    return found


def demo(
    terminals: int = typer.Option(3000, min=10, max=19_000, help="Simulated terminals."),
    cameras: int = typer.Option(216, min=0, max=2000, help="Simulated facility cameras."),
    alert_rate: float = typer.Option(0.5, help="Button presses per second, whole district."),
    root: str = typer.Option("var/demo", help="Working directory (wiped first)."),
    duration: float = typer.Option(0, help="Stop after S seconds; 0 runs until Ctrl-C."),
    bridged: bool = typer.Option(
        False, help="A broker per town, bridged to a district broker (17 towns)."
    ),
) -> None:
    """Broker + gateway + simulated district + command center, on loopback."""
    console = Console()
    base = Path(root)
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    with ExitStack() as stack:
        run = Demo(base, stack, console)
        login = run.site(terminals, bridged)
        section = run.cameras(cameras)
        run.center()
        run.gateway(login, section)
        run.terminals(terminals, alert_rate)
        _print_where_to_look(console, run.ports, run.admin_password, run.cc_token, run.logs)
        _wait(console, duration)


def _print_where_to_look(
    console: Console, ports: dict[str, int], admin_password: str, token: str, logs: Path
) -> None:
    gw = f"http://{HOST}:{ports['gateway']}"
    table = Table(title="The district is running", show_header=False)
    table.add_row("Operator console", f"{gw}/console/  (admin / {admin_password})")
    table.add_row("Wall display", f"{gw}/console/kiosk  (see README: kiosk launch)")
    table.add_row("Report", f"{gw}/console/reports")
    table.add_row("Prometheus metrics", f"{gw}/metrics")
    table.add_row("Health", f"{gw}/healthz")
    table.add_row("API (bearer token)", f"{gw}/api/v1/alerts  token {token}")
    table.add_row("API description", f"{gw}/api/docs")
    table.add_row("Command-center records", f"http://{HOST}:{ports['center']}/records")
    table.add_row(
        "MQTT brokers",
        f"terminals {HOST}:{ports['broker']} (TLS {ports['broker-tls']}),"
        f" gateway {HOST}:{ports['broker-gateway']}; see site/topology.json",
    )
    table.add_row("Logs", str(logs))
    console.print(table)
    console.print("Press Ctrl-C to stop everything.")


def _wait(console: Console, duration: float) -> None:
    deadline = time.monotonic() + duration if duration else None
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    console.print("stopping …")
