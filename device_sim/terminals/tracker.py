"""What each terminal knows about its alerts: the highest stage seen and when each arrived.

Pure bookkeeping, fed with acks as they come. Acks may repeat (the gateway re-acks a
retransmission) or arrive out of order (``accepted`` before ``delivered``); a terminal
shows the highest stage it has seen and ignores lower ones. A stage implied by a higher
one (``accepted`` implies ``received``) counts as reached when the higher one arrives.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from firmware_protocol.messages import GATEWAY_ALERT_PREFIX, HELP_KINDS, Stage

#: ``kind`` of an alert the gateway raised from a dangerous health report.
VITALS = "vitals"
#: Prefix of the alert ids the gateway derives from health reports: ``v-{report_id}``.
VITALS_PREFIX = GATEWAY_ALERT_PREFIX


class AckOutcome(enum.StrEnum):
    """What one ack did to the tracked alert."""

    ADVANCED = "advanced"  # a stage above the highest seen so far
    REPEATED = "repeated"  # a stage already acked before (e.g. the re-ack of a retransmission)
    LATE = "late"  # below the highest, first time: out of order, ignored
    UNKNOWN = "unknown"  # no alert or health report of ours has that id


@dataclass(slots=True)
class AlertRecord:
    """One alert of one terminal, from press (or health report) to the last ack."""

    terminal_id: str
    alert_id: str
    kind: str
    pressed_at: float
    payload: bytes = b""
    storm: bool = False  # pressed in the scenario's storm or after it began
    sends: int = 0
    highest: Stage | None = None
    reached: dict[Stage, float] = field(default_factory=dict)
    acked: set[Stage] = field(default_factory=set)
    #: The gateway's ``ts`` on the ack that made the alert received (its publish time).
    acked_by_gateway_at: float | None = None

    @property
    def received(self) -> bool:
        """True once any ack arrived: the gateway has the alert; retransmission stops."""
        return self.highest is not None

    def latency(self, stage: Stage) -> float | None:
        """Seconds from press to ``stage``, or ``None`` when not reached."""
        at = self.reached.get(stage)
        return None if at is None else at - self.pressed_at

    def received_split(self) -> tuple[float, float] | None:
        """Press → the gateway's publish of the first ack, and that publish → arrival
        here (the uplink with the gateway's work, and the downlink), when known."""
        at, sent = self.reached.get(Stage.RECEIVED), self.acked_by_gateway_at
        if at is None or sent is None:
            return None
        return sent - self.pressed_at, at - sent


def apply_ack(
    record: AlertRecord, stage: Stage, now: float, sent: float | None = None
) -> AckOutcome:
    """Update ``record`` with an ack of ``stage`` arriving at ``now``; ``sent`` is the
    ack's own ``ts`` (when the gateway published it), kept for the first one."""
    if record.highest is None:
        record.acked_by_gateway_at = sent
    if record.highest is None or stage.rank > record.highest.rank:
        for lower in Stage:
            if lower.rank <= stage.rank:
                record.reached.setdefault(lower, now)
        record.highest = stage
        record.acked.add(stage)
        return AckOutcome.ADVANCED
    if stage in record.acked:
        return AckOutcome.REPEATED
    record.acked.add(stage)
    return AckOutcome.LATE


@dataclass(frozen=True, slots=True)
class HealthReport:
    """A health report sent, so that the alert the gateway derives from it can be matched."""

    sent_at: float
    dangerous: bool


class AlertBook:
    """Every alert of a fleet by terminal, plus the health reports that may raise alerts."""

    def __init__(self) -> None:
        self._alerts: dict[str, dict[str, AlertRecord]] = {}
        # ``(sent_at, dangerous)`` by ``(terminal_id, report_id)``: plain tuples of atoms,
        # which the cyclic collector stops tracking (a class instance, even a named
        # tuple, it tracks for good). A district process keeps ~57 new ones a second
        # for the whole run; tracked, they would fill its oldest generation.
        self._reports: dict[tuple[str, str], tuple[float, bool]] = {}
        self._unreceived = 0
        self.pressed = 0  # alerts pressed (not raised from vitals)
        self.reached: Counter[Stage] = Counter()  # pressed alerts by stage reached
        self.help = 0  # help requests (pressed, neither cancel nor test)
        self.help_reached: Counter[Stage] = Counter()

    def __iter__(self) -> Iterator[AlertRecord]:
        for alerts in self._alerts.values():
            yield from alerts.values()

    def __len__(self) -> int:
        return sum(len(alerts) for alerts in self._alerts.values())

    @property
    def unreceived(self) -> int:
        """Alerts without any ack yet (pressed and vitals-derived alike)."""
        return self._unreceived

    def add(self, record: AlertRecord) -> None:
        """Track a new alert; its id must be new for its terminal."""
        alerts = self._alerts.setdefault(record.terminal_id, {})
        if record.alert_id in alerts:
            raise ValueError(f"alert {record.alert_id!r} of {record.terminal_id!r} exists")
        alerts[record.alert_id] = record
        if not record.received:
            self._unreceived += 1
        if record.kind != VITALS:
            self.pressed += 1
        if is_help(record.kind):
            self.help += 1

    def get(self, terminal_id: str, alert_id: str) -> AlertRecord | None:
        """The record of one alert, if tracked."""
        return self._alerts.get(terminal_id, {}).get(alert_id)

    def of(self, terminal_id: str) -> list[AlertRecord]:
        """The alerts of one terminal, oldest first."""
        return list(self._alerts.get(terminal_id, {}).values())

    def pending(self, terminal_id: str) -> list[AlertRecord]:
        """Alerts of ``terminal_id`` the gateway has not acknowledged yet, oldest first."""
        return [r for r in self._alerts.get(terminal_id, {}).values() if not r.received]

    def last_help(self, terminal_id: str) -> AlertRecord | None:
        """The most recent help request of ``terminal_id`` (what ``cancel`` refers to)."""
        alerts = self._alerts.get(terminal_id, {})
        for record in reversed(alerts.values()):
            if record.kind in HELP_KINDS:
                return record
        return None

    def add_report(self, terminal_id: str, report_id: str, report: HealthReport) -> None:
        """Remember a health report sent by ``terminal_id``."""
        self._reports[terminal_id, report_id] = (report.sent_at, report.dangerous)

    def reports(self) -> Iterator[tuple[str, str, HealthReport]]:
        """Every health report sent: ``(terminal_id, report_id, report)``."""
        for (terminal_id, report_id), (sent_at, dangerous) in self._reports.items():
            yield terminal_id, report_id, HealthReport(sent_at, dangerous)

    def on_ack(
        self,
        terminal_id: str,
        alert_id: str,
        stage: Stage,
        now: float,
        sent: float | None = None,
    ) -> AckOutcome:
        """Apply an ack received by ``terminal_id`` (``sent``: the ack's ``ts``)."""
        record = self.get(terminal_id, alert_id) or self._vitals_alert(terminal_id, alert_id)
        if record is None:
            return AckOutcome.UNKNOWN
        was_received, reached_before = record.received, len(record.reached)
        outcome = apply_ack(record, stage, now, sent)
        if not was_received and record.received:
            self._unreceived -= 1
        if record.kind != VITALS:
            new = list(record.reached)[reached_before:]
            self.reached.update(new)
            if is_help(record.kind):
                self.help_reached.update(new)
        return outcome

    def _vitals_alert(self, terminal_id: str, alert_id: str) -> AlertRecord | None:
        if not alert_id.startswith(VITALS_PREFIX):
            return None
        report = self._reports.get((terminal_id, alert_id.removeprefix(VITALS_PREFIX)))
        if report is None:
            return None
        record = AlertRecord(terminal_id, alert_id, VITALS, report[0])
        self.add(record)
        return record


def is_help(kind: str) -> bool:
    """True for the kinds that ask for help (not cancel, test or vitals)."""
    return kind in HELP_KINDS
