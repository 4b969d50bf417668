"""The numbers a run ends with: one JSON-able :class:`Summary`, mergeable across processes.

Percentiles cannot be merged, so a summary carries its raw latency samples when asked
(child processes do) and :func:`merge` recomputes them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from device_sim.terminals.cost import Cost
from device_sim.terminals.stats import LatencyStats
from device_sim.terminals.tracker import VITALS, AlertBook
from firmware_protocol.messages import Stage

#: Latency series: press (or health report, for vitals alerts) to each stage.
LATENCIES = {
    "press_to_received": Stage.RECEIVED,
    "press_to_delivered": Stage.DELIVERED,
    "press_to_accepted": Stage.ACCEPTED,
    "press_to_resolved": Stage.RESOLVED,
}
VITALS_LATENCY = "report_to_received"
#: ``press_to_received`` split at the gateway's publish of the ack (its ``ts``; the
#: simulator and the gateway share the machine's clock): the uplink with everything the
#: gateway does, then the downlink.
SPLIT = ("press_to_gateway_ack", "gateway_ack_to_terminal")
#: Every press series (each also with the storm and nominal prefixes).
PRESS_SERIES = (*LATENCIES, *SPLIT)
#: The same series for the storm's presses alone, and for all the others (both present
#: when the run had a storm).
STORM_PREFIX = "storm_"
NOMINAL_PREFIX = "nominal_"
#: How many lost alert ids a summary lists.
LOST_LISTED = 100


@dataclass(slots=True)
class Counters:
    """What the I/O shell counts while running (all monotonic)."""

    connected: int = 0  # terminals connected at least once
    connect_failures: int = 0
    connect_errors: Counter[str] = field(default_factory=Counter)  # failed attempts by reason
    reconnects: int = 0
    drops: int = 0
    retransmissions: int = 0
    published: Counter[str] = field(default_factory=Counter)  # by label: alert, status, …
    publish_failures: int = 0
    skipped_offline: int = 0
    outbox_dropped: int = 0
    acks: Counter[str] = field(default_factory=Counter)  # by AckOutcome
    bad_downlink: int = 0
    handler_errors: int = 0
    commands: Counter[str] = field(default_factory=Counter)


@dataclass(slots=True)
class Snapshot:
    """Progress while running (also the JSON lines child processes report)."""

    terminals: int = 0
    online: int = 0
    alerts: int = 0
    received: int = 0
    resolved: int = 0
    lost: int = 0

    def to_json(self) -> dict[str, int]:
        """Plain dict."""
        return asdict(self)


@dataclass(slots=True)
class Summary:
    """Everything a run reports; see :meth:`to_json` for the JSON layout."""

    terminals: int = 0
    connected: int = 0
    connect_failures: int = 0
    connect_errors: dict[str, int] = field(default_factory=dict)
    reconnects: int = 0
    drops: int = 0
    alerts_sent: int = 0
    alerts_by_kind: dict[str, int] = field(default_factory=dict)
    transmissions: int = 0
    retransmissions: int = 0
    acknowledged: dict[str, int] = field(default_factory=dict)
    lost: int = 0
    lost_alerts: list[str] = field(default_factory=list)
    duplicate_acks: int = 0
    late_acks: int = 0
    unknown_acks: int = 0
    vitals_alerts: int = 0
    dangerous_reports: int = 0
    dangerous_unalerted: int = 0
    published: dict[str, int] = field(default_factory=dict)
    publish_failures: int = 0
    skipped_offline: int = 0
    outbox_dropped: int = 0
    bad_downlink: int = 0
    handler_errors: int = 0
    commands: dict[str, int] = field(default_factory=dict)
    latency: dict[str, LatencyStats] = field(default_factory=dict)
    cost: Cost = field(default_factory=Cost)
    #: When each process's scenario began (wall clock): its presses and its storm are
    #: planned from it, and a process starts it once its own terminals are online.
    scenario_started: list[float] = field(default_factory=list)
    samples: dict[str, list[float]] = field(default_factory=dict)

    def to_json(self, *, samples: bool = False) -> dict[str, Any]:
        """A JSON-able dict; raw latency samples only when ``samples``."""
        doc = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "samples"}
        doc["latency"] = {name: stats.to_json() for name, stats in self.latency.items()}
        doc["cost"] = self.cost.to_json()
        if samples:
            doc["samples"] = {k: [round(v, 4) for v in vs] for k, vs in self.samples.items()}
        return doc

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Summary:
        """The inverse of :meth:`to_json`; unknown keys are an error."""
        names = {f.name for f in fields(cls)}
        unknown = set(doc) - names
        if unknown:
            raise ValueError(f"unknown summary keys: {sorted(unknown)}")
        values = dict(doc)
        values["latency"] = {
            k: LatencyStats.from_json(v) for k, v in doc.get("latency", {}).items()
        }
        values["cost"] = Cost.from_json(doc.get("cost", {}))
        return cls(**values)


def _latency_samples(book: AlertBook) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in PRESS_SERIES}
    samples[VITALS_LATENCY] = []
    for record in book:
        if record.kind == VITALS:
            latency = record.latency(Stage.RECEIVED)
            if latency is not None:
                samples[VITALS_LATENCY].append(latency)
            continue
        prefix = STORM_PREFIX if record.storm else NOMINAL_PREFIX
        for name, stage in LATENCIES.items():
            latency = record.latency(stage)
            if latency is not None:
                samples[name].append(latency)
                samples.setdefault(prefix + name, []).append(latency)
        split = record.received_split()
        if split is not None:
            for name, part in zip(SPLIT, split, strict=True):
                samples[name].append(part)
                samples.setdefault(prefix + name, []).append(part)
    if any(record.storm for record in book):
        for name in PRESS_SERIES:
            samples.setdefault(STORM_PREFIX + name, [])
            samples.setdefault(NOMINAL_PREFIX + name, [])
    else:
        for name in PRESS_SERIES:  # without a storm every press is nominal
            samples.pop(NOMINAL_PREFIX + name, None)
    return samples


def _alert_counts(book: AlertBook, summary: Summary) -> None:
    kinds: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    lost: list[str] = []
    for record in book:
        if record.kind == VITALS:
            summary.vitals_alerts += 1
            continue
        kinds[record.kind] += 1
        stages.update(stage.value for stage in record.reached)
        if not record.received:
            lost.append(f"{record.terminal_id}/{record.alert_id}")
    summary.alerts_sent = kinds.total()
    summary.alerts_by_kind = dict(sorted(kinds.items()))
    summary.acknowledged = {stage.value: stages[stage.value] for stage in Stage}
    summary.lost = len(lost)
    summary.lost_alerts = lost[:LOST_LISTED]


def _dangerous_counts(book: AlertBook, summary: Summary) -> None:
    for terminal_id, report_id, report in book.reports():
        if report.dangerous:
            summary.dangerous_reports += 1
            if book.get(terminal_id, f"v-{report_id}") is None:
                summary.dangerous_unalerted += 1


def summarize(
    book: AlertBook, counters: Counters, terminals: int, cost: Cost | None = None
) -> Summary:
    """The summary of a fleet's alert book and counters, as of now."""
    summary = Summary(
        terminals=terminals,
        connected=counters.connected,
        connect_failures=counters.connect_failures,
        connect_errors=dict(sorted(counters.connect_errors.items())),
        reconnects=counters.reconnects,
        drops=counters.drops,
        transmissions=counters.published["alert"],
        retransmissions=counters.retransmissions,
        duplicate_acks=counters.acks["repeated"],
        late_acks=counters.acks["late"],
        unknown_acks=counters.acks["unknown"],
        published=dict(sorted(counters.published.items())),
        publish_failures=counters.publish_failures,
        skipped_offline=counters.skipped_offline,
        outbox_dropped=counters.outbox_dropped,
        bad_downlink=counters.bad_downlink,
        handler_errors=counters.handler_errors,
        commands=dict(sorted(counters.commands.items())),
        cost=cost or Cost(terminals=terminals, processes=1),
    )
    _alert_counts(book, summary)
    _dangerous_counts(book, summary)
    summary.samples = _latency_samples(book)
    summary.latency = {name: LatencyStats.of(vs) for name, vs in summary.samples.items()}
    return summary


def _add_counts(into: dict[str, int], more: Mapping[str, int]) -> None:
    for key, value in more.items():
        into[key] = into.get(key, 0) + value


def merge(parts: Sequence[Summary]) -> Summary:
    """One summary of several processes' summaries (latency from their samples)."""
    merged = Summary()
    for part in parts:
        for f in fields(Summary):
            mine, theirs = getattr(merged, f.name), getattr(part, f.name)
            if isinstance(mine, int):
                setattr(merged, f.name, mine + theirs)
            elif f.name == "samples":
                for key, values in theirs.items():
                    merged.samples.setdefault(key, []).extend(values)
            elif f.name == "cost":
                continue
            elif isinstance(mine, dict) and f.name != "latency":
                _add_counts(mine, theirs)
        merged.lost_alerts.extend(part.lost_alerts)
        merged.scenario_started.extend(part.scenario_started)
    merged.lost_alerts = merged.lost_alerts[:LOST_LISTED]
    merged.cost = Cost.merge([part.cost for part in parts])
    merged.latency = {name: LatencyStats.of(vs) for name, vs in merged.samples.items()}
    return merged


def total_snapshot(parts: Iterable[Snapshot]) -> Snapshot:
    """The sum of several processes' progress."""
    total = Snapshot()
    for part in parts:
        for f in fields(Snapshot):
            setattr(total, f.name, getattr(total, f.name) + getattr(part, f.name))
    return total
