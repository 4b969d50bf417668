"""Webhook forwarding in a process of its own (``webhook.own_process``), on a second core.

::

    gateway ──stdin: config, then "w <priority>" wake-ups, "r" registry reloaded──▶ child
    gateway ◀─stdout: one JSON line per report: delivered acks + delivery counts──── child

The gateway's event loop is one core. With forwarding in it, claiming, building the
batch bodies, the HTTP requests and the confirms took about as much of that core as the
intake (py-spy, a 60,000-message drain), so intake ran at half its own ceiling while the
second core stood idle. The child shares nothing with the gateway but the database file
(WAL; the outbox and the health feed are leased, the same as for several gateways) and
this pipe:

* the gateway wakes the child when it commits new events (an alarm goes out at once);
* the child reports what it confirmed: the alerts now ``delivered`` (the gateway's ack
  publisher tells their terminals) and its delivery counts (the gateway's ``/metrics``).

Nothing is lost at either end. The child confirms in the store before it reports; a
report lost with a dying child leaves alerts ``delivered`` but not acked, which the
gateway's ack resender sends again. A child killed mid-delivery leaves leases that the
next child frees at start (their owner's process is gone). The gateway restarts a child
that exits, with a growing pause, and logs each exit once; the child ends when its stdin
closes, so it never outlives the gateway, even one killed with SIGKILL.

The pipe is written by hand: two message kinds, one JSON line each. A queue library or
``multiprocessing`` would bring a second process model (fork, pickling) for less.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from prometheus_client import REGISTRY
from pydantic import SecretStr

from firmware_protocol.messages import Stage
from gateway import gcpause, metrics, tls
from gateway.config import GatewayConfig
from gateway.errors import GatewayError
from gateway.forward.forwarder import Meter, PrometheusMeter
from gateway.forward.webhook import WebhookSink
from gateway.forward.wiring import webhook_client, webhook_forwarder
from gateway.intake.pipeline import AckSink
from gateway.registry import RegistryHolder, load_registry
from gateway.store.db import open_database
from gateway.store.direct import BUSY_POLL_S
from gateway.store.intake import StageUpdate
from gateway.store.outbox import Outbox

log = logging.getLogger(__name__)

#: How the child's connections commit (see :func:`serve`).
SYNCHRONOUS = "NORMAL"
#: The config sections the child uses (it reads nothing else).
SECTIONS = ("site", "registry", "store", "webhook")
#: Pauses before restarting a child that exited, growing to the last.
RESTART_S = (1.0, 2.0, 5.0, 10.0, 30.0)
#: A child that ran this long before it exited starts again after the first pause.
STABLE_S = 60.0
#: How long a stopping gateway waits for its child to end after closing its stdin.
STOP_S = 5.0
#: Wake-ups waiting in the pipe beyond this many bytes are dropped: the child has those
#: waiting already, and one is as good as many.
WAKE_BUFFER_MAX = 4096
#: The longest line the gateway reads from its child (a report of one confirm).
LINE_MAX = 64 * 1024 * 1024


# ---------------------------------------------------------------------------- the wire


def config_line(cfg: GatewayConfig) -> bytes:
    """The child's config: the sections it uses, secrets included (a pipe, not argv)."""
    doc = {name: getattr(cfg, name).model_dump(mode="python") for name in SECTIONS}
    return json.dumps({"config": doc}, default=_plain).encode() + b"\n"


def _plain(value: object) -> object:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return str(value)  # paths


def read_config(line: bytes) -> GatewayConfig:
    return GatewayConfig.model_validate(json.loads(line)["config"])


def wake_line(priority: int | None) -> bytes:
    return b"w\n" if priority is None else f"w {priority}\n".encode()


@dataclass
class Report:
    """One line from the child: alerts moved to ``delivered``, and delivery counts."""

    acks: list[StageUpdate] = field(default_factory=list)
    batches: list[tuple[str, int]] = field(default_factory=list)
    outcomes: list[tuple[str, str, int]] = field(default_factory=list)
    ages: list[tuple[str, list[float]]] = field(default_factory=list)
    #: The child's running total of certificate failures on the webhook link.
    tls_failures: float | None = None

    def __bool__(self) -> bool:
        return bool(self.acks or self.batches or self.outcomes or self.ages) or (
            self.tls_failures is not None
        )

    def encode(self) -> bytes:
        doc: dict[str, Any] = {
            "acks": [_ack_doc(a) for a in self.acks], "batches": self.batches,
            "outcomes": self.outcomes, "ages": self.ages,
        }  # fmt: skip
        if self.tls_failures is not None:
            doc["tls_failures"] = self.tls_failures
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"

    @classmethod
    def decode(cls, line: bytes) -> Report:
        doc = json.loads(line)
        acks = [StageUpdate(**{**a, "stage": Stage(a["stage"])}) for a in doc["acks"]]
        return cls(
            acks, [(s, int(n)) for s, n in doc["batches"]],
            [(s, o, int(n)) for s, o, n in doc["outcomes"]],
            [(s, [float(x) for x in ages]) for s, ages in doc["ages"]],
            doc.get("tls_failures"),
        )  # fmt: skip


def _ack_doc(update: StageUpdate) -> dict[str, Any]:
    doc = asdict(update)
    doc["stage"] = update.stage.value
    return doc


# ------------------------------------------------------------------- the gateway's side


class ForwardingProcess:
    """Runs, restarts and stops the child; wakes it; applies its reports."""

    def __init__(
        self,
        cfg: GatewayConfig,
        acks: AckSink,
        environ: Mapping[str, str],
        meter: Meter | None = None,
        argv: Sequence[str] = (sys.executable, "-m", "gateway.forward.process"),
    ) -> None:
        self._cfg = cfg
        self._acks = acks
        self._environ = dict(environ)
        self._meter = meter or PrometheusMeter()
        self._argv = list(argv)
        self._stdin: asyncio.StreamWriter | None = None
        self._tls_seen = 0.0
        #: The running child's pid (None between children).
        self.pid: int | None = None
        self.started = 0  # children started so far
        self.last_exit: int | None = None  # the status the last child ended with

    def state(self) -> dict[str, Any]:
        """For ``/healthz``: running or not, how often started, how the last one ended."""
        return {"running": self.pid is not None, "pid": self.pid, "started": self.started,
                "last_exit": self.last_exit}  # fmt: skip

    def wake(self, priority: int | None = None) -> None:
        stdin = self._stdin
        if stdin is None or stdin.is_closing():
            return  # a child starting now claims what is due anyway
        if stdin.transport.get_write_buffer_size() < WAKE_BUFFER_MAX:
            stdin.write(wake_line(priority))

    def registry_swapped(self) -> None:
        stdin = self._stdin
        if stdin is not None and not stdin.is_closing():
            stdin.write(b"r\n")

    async def run(self) -> None:
        failures = 0
        while True:
            began = time.monotonic()
            code = self.last_exit = await self._one_child()
            failures = 1 if time.monotonic() - began > STABLE_S else failures + 1
            pause = RESTART_S[min(failures, len(RESTART_S)) - 1]
            log.error("forwarding process exited (status %s); starting another in %.0f s",
                      code, pause)  # fmt: skip
            await asyncio.sleep(pause)

    async def _one_child(self) -> int | None:
        """Run one child to its end; its exit status (None: it could not be started)."""
        level = logging.getLogger().level  # the child logs as the gateway does
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._argv, logging.getLevelName(level or logging.WARNING),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                env={**os.environ, **self._environ}, limit=LINE_MAX,
            )  # fmt: skip
        except OSError as exc:
            log.error("cannot start the forwarding process: %s", exc)
            return None
        assert proc.stdin is not None
        assert proc.stdout is not None
        self.pid, self._tls_seen = proc.pid, 0.0
        self.started += 1
        try:
            proc.stdin.write(config_line(self._cfg))
            self._stdin = proc.stdin
            log.info("forwarding process %d started", proc.pid)
            while True:
                line = b""
                try:
                    if not (line := await proc.stdout.readline()):
                        break
                    report = Report.decode(line)
                except (ValueError, KeyError, TypeError) as exc:
                    # Not what this gateway's child writes: end it, start a fresh one.
                    log.error("forwarding process %d wrote %r: %s", proc.pid, line[:200], exc)
                    break
                await self._apply(report)
        finally:
            self._stdin, self.pid = None, None
            await _stop(proc)
        return proc.returncode

    async def _apply(self, report: Report) -> None:
        for sink, size in report.batches:
            self._meter.batch(sink, size)
        for sink, outcome, count in report.outcomes:
            self._meter.outcome(sink, outcome, count)
        for sink, ages in report.ages:
            self._meter.delivered(sink, ages)
        if report.tls_failures is not None and report.tls_failures > self._tls_seen:
            metrics.TLS_FAILURES.labels("webhook").inc(report.tls_failures - self._tls_seen)
            self._tls_seen = report.tls_failures
        if report.acks:
            await self._acks.submit(report.acks)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    """Close the child's stdin (it ends by itself), then kill it if it does not."""
    if proc.returncode is not None:
        return
    if proc.stdin is not None:
        proc.stdin.close()
    waiting = asyncio.ensure_future(proc.wait())
    done, _ = await asyncio.shield(asyncio.wait([waiting], timeout=STOP_S))
    if not done:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await asyncio.shield(waiting)


# --------------------------------------------------------------------- the child's side


class PipeReports:
    """The child's acks and meter: everything goes into the next report, and a report is
    written as soon as the loop is free (one line per confirm or failure)."""

    def __init__(self, out: asyncio.StreamWriter) -> None:
        self._out = out
        self._report = Report()
        self._scheduled = False
        self._failed = False

    async def submit(self, updates: Sequence[StageUpdate]) -> None:
        self._report.acks.extend(updates)
        self._schedule()
        await self._out.drain()

    def batch(self, sink: str, size: int) -> None:
        self._report.batches.append((sink, size))
        self._schedule()

    def outcome(self, sink: str, outcome: str, count: int) -> None:
        self._report.outcomes.append((sink, outcome, count))
        self._failed = self._failed or outcome != "ok"
        self._schedule()

    def delivered(self, sink: str, ages: Sequence[float]) -> None:
        self._report.ages.append((sink, list(ages)))
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        if self._failed:  # a failure may have been a certificate's: send the running total
            self._failed = False
            total = REGISTRY.get_sample_value("gateway_tls_failures_total", {"link": "webhook"})
            self._report.tls_failures = total or 0.0
        report, self._report = self._report, Report()
        if report and not self._out.is_closing():
            self._out.write(report.encode())


class Commands:
    """Reads the gateway's wake-ups and registry reloads until stdin closes."""

    def __init__(
        self, reader: asyncio.StreamReader, wake: Callable[[int | None], None],
        reload: Callable[[], None],
    ) -> None:  # fmt: skip
        self._reader = reader
        self._wake = wake
        self._reload = reload

    async def run(self) -> None:
        while line := await self._reader.readline():
            word, _, arg = line.decode().strip().partition(" ")
            if word == "w":
                self._wake(int(arg) if arg else None)
            elif word == "r":
                self._reload()
        raise EndOfInput


class EndOfInput(Exception):
    """The gateway closed the pipe: the child's work is over."""


async def serve(
    cfg: GatewayConfig, reader: asyncio.StreamReader, out: asyncio.StreamWriter
) -> None:
    """The child's whole life: forward the webhook sink's outbox until stdin closes."""
    wh = cfg.webhook
    registry = RegistryHolder(load_registry(cfg.registry.path, cfg.site.district))
    gcpause.freeze()  # the registry's rows out of every collection, as in the gateway

    def reload() -> None:
        try:
            registry.swap(load_registry(cfg.registry.path, cfg.site.district))
        except GatewayError as exc:  # the gateway checked this file already; keep the old
            log.error("registry reload in the forwarding process failed: %s", exc)
            return
        gcpause.freeze()

    reports = PipeReports(out)
    verify = tls.client_context(wh.tls, "webhook.tls")
    # The background checkpointer is the gateway's: this process's commits never
    # checkpoint the WAL themselves. Its commits (confirms) do not wait for fsync: the
    # WAL is one file, so the gateway's next commit (synchronous=FULL, at most an intake
    # batch away) makes them durable with its own, and one lost to a power cut only
    # sends its events again (the command center deduplicates on event_id). Waiting for
    # the disk in both processes had each hold the write lock ~7 ms per commit and the
    # other sleep in SQLite's busy handler: the drain of 60,000 ran at 8.3k msg/s so,
    # 11.3k without.
    async with (
        open_database(
            cfg.store.path, SYNCHRONOUS, background_checkpoints=True, busy_poll_s=BUSY_POLL_S
        ) as db,
        contextlib.AsyncExitStack() as stack,
    ):
        outbox = Outbox(db, regions=registry.region_of)
        await outbox.release_own_leases()
        await outbox.open_feeds([WebhookSink.name])
        client = await webhook_client(wh, verify, stack)
        forwarder = webhook_forwarder(wh, outbox, reports, client, meter=reports)
        with contextlib.suppress(EndOfInput):
            async with asyncio.TaskGroup() as tg:
                tg.create_task(forwarder.run(), name="forwarder-webhook")
                tg.create_task(Commands(reader, forwarder.wake, reload).run(), name="commands")


async def _child_main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_MAX)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(sys.stdout.fileno(), "wb", 0)
    )
    out = asyncio.StreamWriter(transport, protocol, None, loop)
    first = await reader.readline()
    if not first:
        return  # the gateway ended before it sent the config
    await serve(read_config(first), reader, out)


def main() -> None:
    # The gateway ends this process by closing its stdin, also when a terminal's Ctrl-C
    # or systemd's stop signals the whole group: the child must not end (and be
    # restarted) before the gateway that is stopping.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    level = sys.argv[1] if len(sys.argv) > 1 else "WARNING"
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s forwarding[%(process)d] %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(_child_main())


if __name__ == "__main__":
    main()
