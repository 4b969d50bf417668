"""A fleet of simulated terminals: the importable API and its task group.

Every terminal has its own MQTT connection — to the broker its credential names, or
``broker`` — and nothing else of its own: a fixed pool of connection workers, one
scheduler task and the connections' protocol objects serve the whole fleet.

::

    fleet = Fleet(Broker(port=port), credentials, FleetOptions(status_interval_s=30))
    async with asyncio.TaskGroup() as tg:
        tg.create_task(fleet.run())
        await fleet.wait_connected()
        alert_id = fleet.press("t-0001", AlertKind.EMERGENCY)
        async with asyncio.timeout(10):
            await fleet.wait_stage("t-0001", alert_id, Stage.RECEIVED)
        fleet.stop()

With ``FleetOptions.scenario`` set, :meth:`Fleet.run` plays it, waits ``grace_s`` for
outstanding acks and stops by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from device_sim.terminals.backoff import ALERT_RETRY, RECONNECT, RetrySchedule
from device_sim.terminals.behaviour import Behaviour
from device_sim.terminals.connection import Connector
from device_sim.terminals.cost import Cost, CostMeter
from device_sim.terminals.credentials import Credential
from device_sim.terminals.downlink import CallBack
from device_sim.terminals.malformed import Malformed
from device_sim.terminals.options import Broker, Endpoint, FleetOptions
from device_sim.terminals.payloads import boot_tag
from device_sim.terminals.scenario import Scenario, plan
from device_sim.terminals.summary import Snapshot, Summary, summarize
from device_sim.terminals.terminal import Terminal
from device_sim.terminals.tracker import AlertRecord
from device_sim.terminals.uplink import Uplink
from firmware_protocol.messages import AlertKind, Stage

log = logging.getLogger(__name__)

#: The scheduler's resolution: timers fire at most this late.
TICK_S = 0.1
#: How often an observer is told about progress.
OBSERVE_EVERY_S = 0.5


class FleetObserver(Protocol):
    """Gets the fleet's progress every :data:`OBSERVE_EVERY_S` and once at the end."""

    def update(self, snapshot: Snapshot) -> None: ...


def endpoints(broker: Broker, credentials: Sequence[Credential]) -> list[Endpoint]:
    """Each terminal's broker; ``ValueError`` naming ``--ca-file`` when TLS lacks the CA."""
    default = broker.endpoint
    chosen = [c.broker or default for c in credentials]
    if broker.ca_file is None and any(e.tls for e in chosen):
        raise ValueError("--ca-file: a broker URL is mqtts:// but no site CA was given")
    return chosen


class Fleet:
    """Simulated terminals, each with its own MQTT connection, in one process."""

    def __init__(
        self,
        broker: Broker,
        credentials: Sequence[Credential],
        options: FleetOptions | None = None,
        *,
        alert_retry: RetrySchedule = ALERT_RETRY,
        reconnect: RetrySchedule = RECONNECT,
        observer: FleetObserver | None = None,
        clock: Callable[[], float] = time.time,
        rss_start: int | None = None,
    ) -> None:
        # Memory before the terminals exist (``rss_start``: measured by the caller, e.g.
        # before loading the credentials), so the summary can tell what they added.
        self._cost = CostMeter(len(credentials), rss_start)
        self._options = options or FleetOptions()
        ids = [c.terminal_id for c in credentials]
        if len(set(ids)) != len(ids):
            raise ValueError("credentials: terminal ids must be unique")
        self._clock = clock
        self._rng = random.Random(self._options.seed)
        self._observer = observer
        self._changed = asyncio.Event()
        self._stopped = asyncio.Event()
        self._released = asyncio.Event()
        self._running = False
        boot = boot_tag(clock())
        interval = self._options.status_interval_s
        terminals = [
            Terminal(c, e, boot, interval)
            for c, e in zip(credentials, endpoints(broker, credentials), strict=True)
        ]
        self._uplink = Uplink()
        self._behaviour = Behaviour(
            terminals, self._options, self._uplink, alert_retry, self._rng, clock, self._notify
        )
        self._connector = Connector(
            broker,
            self._behaviour,
            self._uplink,
            retry=reconnect,
            rate=self._options.connect_rate,
            attempt_s=self._options.connect_attempt_s,
            clock=clock,
            rng=self._rng,
        )
        self._final_cost: Cost | None = None
        self._scenario_started: float | None = None

    # --- lifecycle ----------------------------------------------------------------------

    async def run(self) -> Summary:
        """Run every terminal until :meth:`stop` (or the scenario's end); the final summary.

        A fleet runs once; make a new one for another run.
        """
        if self._running:
            raise RuntimeError("Fleet.run() is already running")
        self._running = True
        self._cost.begin_run()
        self._behaviour.start(self._clock())
        terminals = self._behaviour.terminals.values()
        workers = min(self._options.connect_concurrency, len(terminals))
        try:
            async with asyncio.TaskGroup() as tg:
                tasks = [
                    tg.create_task(self._connector.work(), name=f"connector-{i}")
                    for i in range(workers)
                ]
                self._connector.start(terminals)
                scheduler = tg.create_task(self._schedule(), name="scheduler")
                if self._options.scenario is not None:
                    scenario = self._options.scenario
                    tasks.append(tg.create_task(self._play(scenario), name="scenario"))
                await self._stopped.wait()
                self._final_cost = self._cost.finish()
                if self._observer is not None:
                    self._observer.update(self.snapshot())
                for task in tasks:
                    task.cancel()
                await self._connector.close_all(terminals)
                scheduler.cancel()
        finally:
            self._running = False
        return self.report()

    def stop(self) -> None:
        """Ask :meth:`run` to shut every terminal down (retained ``offline``, DISCONNECT)."""
        self._stopped.set()

    def release_start(self) -> None:
        """Let a scenario held by ``FleetOptions.hold_start`` begin (its warm-up first).

        Several processes playing one fleet's scenario are released together, so their
        plans share one clock: nobody's storm lands in another's nominal minutes.
        """
        self._released.set()

    def _dispatch_due(self, now: float) -> None:
        for due in self._behaviour.timers.pop_due(now):
            self._behaviour.dispatch(due, now)

    async def _schedule(self) -> None:
        observed = 0.0
        while True:
            now = self._clock()
            self._dispatch_due(now)
            self._connector.tick(now)
            if self._observer is not None and now - observed >= OBSERVE_EVERY_S:
                observed = now
                self._observer.update(self.snapshot())
            await asyncio.sleep(TICK_S)

    async def _play(self, scenario: Scenario) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._options.connect_timeout_s):
                await self.wait_connected()
        if self._behaviour.online < len(self._behaviour.terminals):
            log.warning(
                "starting the scenario with %d of %d terminals online",
                self._behaviour.online,
                len(self._behaviour.terminals),
            )
        self._cost.begin_steady()
        if self._options.hold_start:
            await self._await_release()
        await asyncio.sleep(self._options.warmup_s)
        start = self._scenario_started = self._clock()
        for planned in plan(scenario, self.terminal_ids, self._rng):
            self._behaviour.timers.add(start + planned.at, planned.action)
        await asyncio.sleep(scenario.duration_s)
        # Whatever came due before the end happens now, not after the scheduler's next
        # tick: otherwise a press planned just before the end would be pressed during
        # shutdown (and never answered) or not at all.
        self._dispatch_due(self._clock())
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self._options.grace_s):
                await self.wait_for(self._settled)
        self._log_unreceived(start)
        self.stop()

    async def _await_release(self) -> None:
        try:
            async with asyncio.timeout(self._options.connect_timeout_s):
                await self._released.wait()
        except TimeoutError:
            log.warning(
                "starting the scenario without the go-ahead (none after %.0f s)",
                self._options.connect_timeout_s,
            )

    def _log_unreceived(self, start: float) -> None:
        """Each alert still without ``received`` at the end, with what its terminal knew
        (for the technician: was it ever written, was the terminal online)."""
        now = self._clock()
        for record in self._behaviour.book:
            if record.received:
                continue
            terminal = self._behaviour.terminals[record.terminal_id]
            conn = terminal.conn
            log.warning(
                "no ack for %s/%s (%s): pressed %.3f s into the run (%.1f s ago), written"
                " %d times, terminal %s, connection %s with %d publications unacked",
                record.terminal_id, record.alert_id, record.kind, record.pressed_at - start,
                now - record.pressed_at, record.sends,
                "online" if terminal.online else "offline",
                "none" if conn is None else conn.state.name,
                0 if conn is None else len(conn.unacked()),
            )  # fmt: skip

    def _settled(self) -> bool:
        """Every alert received, and every help request at the settle stage."""
        book = self._behaviour.book
        return book.unreceived == 0 and book.help_reached[self._options.settle_stage] >= book.help

    # --- waiting ------------------------------------------------------------------------

    def _notify(self) -> None:
        if not self._cost.steady and self._behaviour.online >= len(self._behaviour.terminals):
            self._cost.all_connected()
        # Wake every waiter; each re-checks its predicate and waits on the fresh event.
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Return once ``predicate()`` holds; it is re-checked on every ack and (dis)connect."""
        while not predicate():
            await self._changed.wait()

    async def wait_connected(self, count: int | None = None) -> None:
        """Return once ``count`` terminals (default: all) are online at the same time."""
        wanted = len(self._behaviour.terminals) if count is None else count
        await self.wait_for(lambda: self._behaviour.online >= wanted)

    async def wait_stage(self, terminal_id: str, alert_id: str, stage: Stage) -> AlertRecord:
        """Return the alert's record once it reached ``stage`` (the caller sets the timeout)."""
        self._behaviour.terminal(terminal_id)

        def reached() -> bool:
            record = self._behaviour.book.get(terminal_id, alert_id)
            return record is not None and stage in record.reached

        await self.wait_for(reached)
        record = self._behaviour.book.get(terminal_id, alert_id)
        assert record is not None  # reached() saw it
        return record

    # --- acting -------------------------------------------------------------------------

    def press(
        self,
        terminal_id: str,
        kind: AlertKind,
        *,
        cancels: str | None = None,
        note: str | None = None,
    ) -> str:
        """Press a button of ``terminal_id``; returns the alert id (kept on retransmission).

        ``cancel`` cancels ``cancels``, by default the terminal's latest help request.
        """
        return self._behaviour.press(terminal_id, kind, self._clock(), cancels, note)

    def send_health(self, terminal_id: str, *, dangerous: bool = False) -> str:
        """Send a health report (dangerous: heart rate 160, SpO2 85 or a fall, in turn)."""
        return self._behaviour.send_health(terminal_id, dangerous, self._clock())

    def send_malformed(self, terminal_id: str, klass: Malformed) -> None:
        """Publish one malformed alert payload of class ``klass``."""
        self._behaviour.send_malformed(terminal_id, klass, self._clock())

    def drop(self, terminal_id: str, back_after_s: float | None = None) -> None:
        """Cut the connection ungracefully (the will fires); reconnect after ``back_after_s``."""
        away = self._options.offline_for_s if back_after_s is None else back_after_s
        self._behaviour.drop(terminal_id, away, self._clock())

    # --- looking ------------------------------------------------------------------------

    @property
    def terminal_ids(self) -> list[str]:
        """Every terminal id, in credentials order."""
        return list(self._behaviour.terminals)

    def is_online(self, terminal_id: str) -> bool:
        """True while the terminal is connected."""
        return self._behaviour.terminal(terminal_id).online

    def alert(self, terminal_id: str, alert_id: str) -> AlertRecord | None:
        """The record of one alert (sends, highest stage, stage times)."""
        return self._behaviour.book.get(terminal_id, alert_id)

    def alerts(self, terminal_id: str) -> list[AlertRecord]:
        """Every alert of one terminal, oldest first (vitals alerts included)."""
        return self._behaviour.book.of(terminal_id)

    @property
    def callbacks(self) -> list[CallBack]:
        """``call_back`` commands received so far."""
        return list(self._behaviour.downlink.callbacks)

    def status_interval(self, terminal_id: str) -> float:
        """The terminal's current status interval (changed by ``config`` commands)."""
        return self._behaviour.terminal(terminal_id).status_interval_s

    def snapshot(self) -> Snapshot:
        """Progress counts, cheap enough to take often."""
        return self._behaviour.snapshot()

    def report(self) -> Summary:
        """The summary as of now (alerts without ``received`` count as lost)."""
        behaviour = self._behaviour
        counters = behaviour.counters
        stats = self._uplink.stats
        counters.outbox_dropped = stats.dropped
        counters.publish_failures = stats.failed
        counters.skipped_offline = stats.skipped_offline
        counters.handler_errors = self._connector.handler_errors
        cost = self._final_cost or self._cost.finish()
        summary = summarize(behaviour.book, counters, len(behaviour.terminals), cost)
        if self._scenario_started is not None:
            summary.scenario_started = [self._scenario_started]
        return summary
