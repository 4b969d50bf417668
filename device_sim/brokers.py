"""Every Mosquitto of a provisioned site, started and stopped together (each by its PID).

Reads the site's ``topology.json`` (written by ``python -m gateway provision``) and runs
one ``mosquitto -c`` per broker: the district broker first, then the town brokers (their
bridges connect and reconnect on their own). Used by ``make demo``, the benchmarks and
the tests; ``python -m device_sim brokers --site DIR`` runs a site's brokers in the
foreground until Ctrl-C.

Each broker may hold as many open files as the system allows (up to 20,000 here): one
per connection, so the soft limit is raised to the hard limit for every broker started.
"""

from __future__ import annotations

import json
import resource
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Annotated

import typer

from device_sim.procs import ManagedProcess, mosquitto, port_open

#: The most open files a broker asks for (one per connection plus its own).
OPEN_FILES = 20_000


@dataclass(frozen=True, slots=True)
class ListenerEntry:
    role: str
    port: int
    bind: str
    tls: bool


@dataclass(frozen=True, slots=True)
class BrokerEntry:
    name: str
    zone: str | None
    conf: Path
    listeners: tuple[ListenerEntry, ...]

    def port(self, role: str, tls: bool | None = None) -> int:
        for listener in self.listeners:
            if listener.role == role and (tls is None or listener.tls == tls):
                return listener.port
        raise KeyError(f"broker {self.name} has no {role} listener (tls={tls})")


def read_topology(site: Path) -> list[BrokerEntry]:
    """The brokers of a provisioned site, in start order."""
    doc = json.loads((site / "topology.json").read_text(encoding="utf-8"))
    if doc.get("format") != 1:
        raise ValueError(f"{site / 'topology.json'}: unknown format {doc.get('format')!r}")
    return [
        BrokerEntry(
            b["name"], b["zone"], site / b["conf"],
            tuple(ListenerEntry(x["role"], int(x["port"]), x["bind"], bool(x["tls"]))
                  for x in b["listeners"]),
        )
        for b in doc["brokers"]
    ]  # fmt: skip


def _raise_open_files(pid: int) -> None:
    _soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    limit = OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES)
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (limit, hard))


class SiteBrokers:
    """The site's Mosquitto processes; a context manager that stops all it started."""

    def __init__(self, site: Path, logs: Path | None = None) -> None:
        self.site = site
        self.logs = logs or site / "logs"
        self.entries = {entry.name: entry for entry in read_topology(site)}
        self._procs: dict[str, ManagedProcess] = {}

    @property
    def names(self) -> list[str]:
        return list(self.entries)

    def entry(self, name: str) -> BrokerEntry:
        return self.entries[name]

    def process(self, name: str) -> ManagedProcess:
        return self._procs[name]

    def start(self, name: str | None = None, timeout: float = 15.0) -> SiteBrokers:
        """Start one broker (or all not yet running) and wait until each listens."""
        for entry in [self.entries[name]] if name else self.entries.values():
            if entry.name in self._procs and self._procs[entry.name].running:
                continue
            proc = mosquitto(entry.conf, self.logs / f"mosquitto-{entry.name}.log").start()
            assert proc.proc is not None
            _raise_open_files(proc.proc.pid)
            self._procs[entry.name] = proc
        for entry in [self.entries[name]] if name else self.entries.values():
            for listener in entry.listeners:
                self._procs[entry.name].wait_port(_reach(listener), listener.port, timeout)
        return self

    def stop(self, name: str | None = None) -> None:
        """SIGTERM (Mosquitto saves its state), then SIGKILL if it hangs."""
        for key in [name] if name else reversed(list(self._procs)):
            proc = self._procs.pop(key, None)
            if proc is not None:
                proc.stop()
                _wait_closed(self.entries[key])

    def kill9(self, name: str) -> None:
        """SIGKILL: the broker saves nothing (crash tests)."""
        proc = self._procs.pop(name)
        proc.kill9()
        _wait_closed(self.entries[name])

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def __enter__(self) -> SiteBrokers:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:  # fmt: skip
        self.stop()


def _reach(listener: ListenerEntry) -> str:
    """The address to check a listener on from this machine."""
    return "127.0.0.1" if listener.bind in ("0.0.0.0", "::", "") else listener.bind


def _wait_closed(entry: BrokerEntry, timeout: float = 5.0) -> None:
    """Until its ports are free again, so a restart can bind them."""
    deadline = time.monotonic() + timeout
    while any(port_open(_reach(x), x.port) for x in entry.listeners):
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def brokers(
    site: Annotated[Path, typer.Option(help="A site from `python -m gateway provision`.")],
    logs: Annotated[Path | None, typer.Option(help="Log directory (default: SITE/logs).")] = None,
) -> None:
    """Run every broker of a provisioned site until Ctrl-C or SIGTERM, then stop each."""
    signal.signal(signal.SIGTERM, _interrupt)
    with SiteBrokers(site, logs) as running:
        for name in running.names:
            entry, proc = running.entry(name), running.process(name)
            ports = ", ".join(
                f"{x.role}{' TLS' if x.tls else ''} {x.bind}:{x.port}" for x in entry.listeners
            )
            assert proc.proc is not None
            typer.echo(f"{name}: pid {proc.proc.pid}; {ports}")
        typer.echo("running; Ctrl-C stops them")
        try:
            while all(running.process(name).running for name in running.names):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        stopped = [name for name in running.names if not running.process(name).running]
        if stopped:
            typer.echo(f"stopped on their own: {', '.join(stopped)}; see {running.logs}", err=True)
