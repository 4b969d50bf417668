"""What the terminals of a fleet do, and when: presses, retransmissions, periodic reports,
drops and reactions to the gateway. Everything here only decides and enqueues; the
connector and the uplink do the I/O.
"""

from __future__ import annotations

import enum
import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from device_sim.terminals.backoff import RetrySchedule
from device_sim.terminals.downlink import Downlink
from device_sim.terminals.link import close_ungracefully
from device_sim.terminals.malformed import Malformed, malformed_payload
from device_sim.terminals.options import FleetOptions
from device_sim.terminals.payloads import dangerous_vitals, device_status, normal_vitals
from device_sim.terminals.scenario import Action, GoOffline, Press, SendMalformed
from device_sim.terminals.summary import Counters, Snapshot
from device_sim.terminals.terminal import Publication, Terminal
from device_sim.terminals.timers import Timers
from device_sim.terminals.tracker import AlertBook, AlertRecord, HealthReport
from device_sim.terminals.uplink import Uplink
from firmware_protocol.codec import encode_alert, encode_health, encode_status
from firmware_protocol.messages import Alert, AlertKind, Health, Stage, TerminalState
from firmware_protocol.topics import Channel

log = logging.getLogger(__name__)

#: The label of the ``offline`` status a terminal shut down in order says goodbye with.
FAREWELL = "farewell"


class Report(enum.StrEnum):
    """Periodic things a terminal does."""

    STATUS = "status"
    HEALTH = "health"
    SELF_TEST = "self_test"


@dataclass(frozen=True, slots=True)
class Retransmit:
    """Send the alert again unless it was acknowledged meanwhile."""

    terminal_id: str
    alert_id: str
    attempt: int


@dataclass(frozen=True, slots=True)
class Periodic:
    """A periodic report; a stale ``generation`` (after reconfiguration) ends the chain."""

    terminal_id: str
    report: Report
    generation: int = 0


Due = Retransmit | Periodic | Action


class Behaviour:
    """The fleet's terminals, their alerts and their timers."""

    def __init__(
        self,
        terminals: Iterable[Terminal],
        options: FleetOptions,
        uplink: Uplink,
        alert_retry: RetrySchedule,
        rng: random.Random,
        clock: Callable[[], float],
        notify: Callable[[], None],
    ) -> None:
        self.terminals = {t.id: t for t in terminals}
        self.book = AlertBook()
        self.counters = Counters()
        self.timers: Timers[Due] = Timers()
        self.downlink = Downlink(self.book, self.counters)
        self.online = 0
        self._options = options
        self._uplink = uplink
        self._retry = alert_retry
        self._rng = rng
        self._clock = clock
        self._notify = notify
        self._started = 0.0
        self._dangerous_sent = 0

    def terminal(self, terminal_id: str) -> Terminal:
        """The terminal with that id; ``KeyError`` naming it otherwise."""
        try:
            return self.terminals[terminal_id]
        except KeyError:
            raise KeyError(f"no terminal {terminal_id!r} in this fleet") from None

    # --- timers -------------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Schedule every terminal's periodic reports, spread over one interval."""
        self._started = now
        periods = {
            Report.STATUS: self._options.status_interval_s,
            Report.HEALTH: self._options.health_interval_s,
            Report.SELF_TEST: self._options.self_test_interval_s,
        }
        for terminal in self.terminals.values():
            for report, period in periods.items():
                if period > 0:
                    self.timers.add(
                        now + self._rng.uniform(0, period), Periodic(terminal.id, report)
                    )

    def dispatch(self, due: Due, now: float) -> None:
        """Do what has come due."""
        match due:
            case Retransmit():
                self._retransmit(due, now)
            case Periodic():
                self._periodic(due, now)
            case Press(terminal_id, kind, storm):
                if kind is AlertKind.CANCEL and self.book.last_help(terminal_id) is None:
                    return
                self.press(terminal_id, kind, now, storm=storm)
            case GoOffline(terminal_id, for_s):
                self.drop(terminal_id, for_s, now)
            case SendMalformed(terminal_id, klass):
                self.send_malformed(terminal_id, klass, now)

    def _retransmit(self, due: Retransmit, now: float) -> None:
        record = self.book.get(due.terminal_id, due.alert_id)
        if record is None or record.received:
            return
        self._transmit(self.terminals[due.terminal_id], record)
        retry = Retransmit(due.terminal_id, due.alert_id, due.attempt + 1)
        self.timers.add(now + self._retry.delay(due.attempt), retry)

    def _periodic(self, due: Periodic, now: float) -> None:
        terminal = self.terminals[due.terminal_id]
        if due.report is Report.STATUS:
            if due.generation != terminal.status_generation:
                return
            period = terminal.status_interval_s
            if terminal.online:
                self._uplink.put(terminal, self._status(terminal, now))
        elif due.report is Report.HEALTH:
            period = self._options.health_interval_s
            if terminal.online:
                dangerous = self._rng.random() < self._options.dangerous_fraction
                self.send_health(terminal.id, dangerous, now)
        else:
            period = self._options.self_test_interval_s
            if terminal.online:
                self.press(terminal.id, AlertKind.TEST, now)
        self.timers.add(now + period, due)

    # --- actions ------------------------------------------------------------------------

    def press(
        self,
        terminal_id: str,
        kind: AlertKind,
        now: float,
        cancels: str | None = None,
        note: str | None = None,
        *,
        storm: bool = False,
    ) -> str:
        """Press a button; returns the new alert id. ``cancel`` defaults to the last request."""
        terminal = self.terminal(terminal_id)
        if kind is AlertKind.CANCEL and cancels is None:
            last = self.book.last_help(terminal_id)
            if last is None:
                raise ValueError(f"terminal {terminal_id!r} has no help request to cancel")
            cancels = last.alert_id
        alert_id = terminal.next_id("b")
        alert = Alert(terminal_id, alert_id, kind, round(now, 3), cancels=cancels, note=note)
        record = AlertRecord(
            terminal_id, alert_id, kind.value, now, payload=encode_alert(alert), storm=storm
        )
        self.book.add(record)
        self._transmit(terminal, record)
        self.timers.add(now + self._retry.delay(0), Retransmit(terminal_id, alert_id, 1))
        self._notify()
        return alert_id

    def _transmit(self, terminal: Terminal, record: AlertRecord) -> None:
        # Offline: the alert stays pending and goes out right after the reconnect.
        if terminal.online and self._uplink.put(
            terminal, Publication(Channel.ALERT, record.payload)
        ):
            self._count_send(record)

    def _count_send(self, record: AlertRecord) -> None:
        record.sends += 1
        if record.sends > 1:
            self.counters.retransmissions += 1

    def send_health(self, terminal_id: str, dangerous: bool, now: float) -> str:
        """Send a health report; returns its report id."""
        terminal = self.terminal(terminal_id)
        report_id = terminal.next_id("h")
        if dangerous:
            vitals = dangerous_vitals(self._dangerous_sent)
            self._dangerous_sent += 1
        else:
            vitals = normal_vitals(self._rng)
        self.book.add_report(terminal_id, report_id, HealthReport(now, dangerous))
        payload = encode_health(Health(terminal_id, report_id, round(now, 3), vitals))
        self._uplink.put(terminal, Publication(Channel.HEALTH, payload, label="health"))
        return report_id

    def send_malformed(self, terminal_id: str, klass: Malformed, now: float) -> None:
        """Publish one malformed alert payload of class ``klass``."""
        terminal = self.terminal(terminal_id)
        payload = malformed_payload(klass, terminal_id, terminal.next_id("m"), now)
        publication = Publication(Channel.ALERT, payload, label=f"malformed:{klass}")
        self._uplink.put(terminal, publication)

    def drop(self, terminal_id: str, for_s: float, now: float) -> None:
        """Lose the connection without DISCONNECT (the will fires); reconnect after ``for_s``."""
        terminal = self.terminal(terminal_id)
        terminal.offline_until = max(terminal.offline_until, now + for_s)
        if terminal.conn is not None and close_ungracefully(terminal.conn):
            self.counters.drops += 1

    def _status(
        self, terminal: Terminal, now: float, state: TerminalState = TerminalState.ONLINE
    ) -> Publication:
        status = device_status(terminal.id, now, self._started, self._options.firmware, state)
        return Publication(Channel.STATUS, encode_status(status), retain=True, label="status")

    # --- connection events (see connection.ConnectionEvents) ---------------------------

    def introduction(self, terminal: Terminal) -> list[Publication]:
        """Retained ``online`` status, then every alert still waiting for ``received``."""
        publications = [self._status(terminal, self._clock())]
        for record in self.book.pending(terminal.id):
            self._count_send(record)
            publications.append(Publication(Channel.ALERT, record.payload))
        return publications

    def farewell(self, terminal: Terminal) -> Publication:
        """Retained ``offline`` status of a terminal shut down in order (not counted)."""
        status = self._status(terminal, self._clock(), TerminalState.OFFLINE)
        return Publication(status.channel, status.payload, retain=True, label=FAREWELL)

    def connected(self, terminal: Terminal, first: bool) -> None:
        """Count the terminal online."""
        self.online += 1
        if first:
            self.counters.connected += 1
        else:
            self.counters.reconnects += 1
        self._notify()

    def disconnected(self, terminal: Terminal) -> None:
        """Count the terminal offline."""
        self.online -= 1
        self._notify()

    def connect_failed(self, terminal: Terminal, reason: str) -> None:
        """Count a failed connection attempt by reason (each reason logged once per run)."""
        errors = self.counters.connect_errors
        if reason not in errors:
            log.warning("terminal %s: cannot connect to %s: %s", terminal.id,
                        terminal.endpoint.url, reason)  # fmt: skip
        errors[reason] += 1
        self.counters.connect_failures += 1
        self._notify()

    def received(self, terminal: Terminal, topic: str, payload: bytes) -> None:
        """Apply a downlink message."""
        now = self._clock()
        change = self.downlink.handle(terminal.id, topic, payload, now)
        if change is not None:
            terminal.status_interval_s = change.status_interval_s
            terminal.status_generation += 1
            chain = Periodic(terminal.id, Report.STATUS, terminal.status_generation)
            self.timers.add(now + change.status_interval_s, chain)
        self._notify()

    def sent(self, terminal: Terminal, publication: Publication) -> None:
        """Count a publication the broker acknowledged (the goodbye is not part of the run)."""
        if publication.label != FAREWELL:
            self.counters.published[publication.label] += 1

    # --- progress -----------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """Progress as of now."""
        return Snapshot(
            terminals=len(self.terminals),
            online=self.online,
            alerts=self.book.pressed,
            received=self.book.reached[Stage.RECEIVED],
            resolved=self.book.reached[Stage.RESOLVED],
            lost=self.book.unreceived,
        )
