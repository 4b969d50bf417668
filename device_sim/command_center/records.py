"""What the command center received: events deduplicated by ``event_id``, and counts (pure)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from device_sim.terminals.stats import LatencyStats


class BadEventError(ValueError):
    """The body is not an event; the message names the field."""


@dataclass(frozen=True, slots=True)
class Received:
    """One event as it arrived; ``latency_s`` (alerts only) is arrival minus ``pressed_at``.

    ``webhook_id`` is the request's id: the event's own id, or its batch's."""

    webhook_id: str
    event_id: str
    type: str
    occurred_at: float
    source: str
    region: list[str]
    data: dict[str, Any]
    received_at: float
    latency_s: float | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain dict."""
        return asdict(self)


def _field(body: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise BadEventError(f"{name}: missing or not a {getattr(kind, '__name__', kind)}")
    return value


def parse_event(webhook_id: str, body: object, now: float) -> Received:
    """Check an event body's fields and make a :class:`Received`."""
    if not isinstance(body, dict):
        raise BadEventError("body: not a JSON object")
    region = _field(body, "region", list)
    if not all(isinstance(r, str) for r in region):
        raise BadEventError("region: must be a list of strings")
    data = _field(body, "data", dict)
    event_type = _field(body, "type", str)
    return Received(
        webhook_id=webhook_id,
        event_id=_field(body, "event_id", str),
        type=event_type,
        occurred_at=float(_field(body, "occurred_at", (int, float))),
        source=_field(body, "source", str),
        region=list(region),
        data=dict(data),
        received_at=now,
        latency_s=_alert_latency(event_type, data, now),
    )


def _alert_latency(event_type: str, data: Mapping[str, Any], now: float) -> float | None:
    pressed_at = data.get("pressed_at")
    if event_type != "alert" or isinstance(pressed_at, bool):
        return None
    if not isinstance(pressed_at, int | float) or not math.isfinite(pressed_at):
        return None
    return now - pressed_at


@dataclass(slots=True)
class Tally:
    """Counts of everything that is not a new event."""

    duplicates: int = 0
    bad_signatures: int = 0
    bad_events: int = 0
    failed_on_purpose: int = 0
    slowed: int = 0
    not_stored: int = 0


@dataclass(slots=True)
class EventLog:
    """Events in arrival order, at most ``limit`` kept; every id remembered for dedup."""

    limit: int = 1_000_000
    events: list[Received] = field(default_factory=list)
    tally: Tally = field(default_factory=Tally)
    by_type: Counter[str] = field(default_factory=Counter)
    _seen: set[str] = field(default_factory=set)
    _latencies: list[float] = field(default_factory=list)
    _pressed: list[float] = field(default_factory=list)

    def add(self, event: Received) -> bool:
        """Record ``event``; False (and counted) when its ``event_id`` was seen before."""
        if event.event_id in self._seen:
            self.tally.duplicates += 1
            return False
        self._seen.add(event.event_id)
        self.by_type[event.type] += 1
        if event.latency_s is not None:
            self._latencies.append(event.latency_s)
            self._pressed.append(event.received_at - event.latency_s)
        if len(self.events) < self.limit:
            self.events.append(event)
        else:
            self.tally.not_stored += 1
        return True

    def seen(self, event_id: str) -> bool:
        """True when an event with this ``event_id`` was recorded."""
        return event_id in self._seen

    def latency(self, pressed: tuple[float, float] | None = None) -> LatencyStats:
        """Alert receive latency (arrival minus the terminal's ``pressed_at``), of every
        alarm or of those pressed within ``pressed`` (from, to)."""
        if pressed is None:
            return LatencyStats.of(self._latencies)
        start, end = pressed
        return LatencyStats.of(
            [lat for lat, at in zip(self._latencies, self._pressed, strict=True)
             if start <= at < end]
        )  # fmt: skip

    def to_json(self, *, with_events: bool = False) -> dict[str, Any]:
        """The ``GET /records`` document."""
        doc: dict[str, Any] = {
            "events": len(self._seen),
            **asdict(self.tally),
            "by_type": dict(sorted(self.by_type.items())),
            "latency_s": {"alert_receive": self.latency().to_json()},
        }
        if with_events:
            doc["event_list"] = [event.to_json() for event in self.events]
        return doc
