"""Planning a run: which terminal does what, when (pure; seeded by the caller).

Alert presses arrive as a Poisson process at ``alert_rate`` across the fleet with kinds
drawn by weight; a storm puts ``storm_count`` presses from distinct terminals into
``storm_window_s``; a fraction of terminals drops off the network once; malformed
payloads arrive at their own rate. Times are seconds from the start of the scenario.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from device_sim.terminals.malformed import Malformed
from firmware_protocol.messages import AlertKind

DEFAULT_WEIGHTS: Mapping[AlertKind, float] = {
    AlertKind.EMERGENCY: 1.0,
    AlertKind.NURSING: 2.0,
    AlertKind.MEAL: 2.0,
    AlertKind.MOBILITY: 1.0,
    AlertKind.MEDICAL: 1.0,
    AlertKind.ERRAND: 2.0,
    AlertKind.CANCEL: 0.5,
    AlertKind.TEST: 0.0,
}


def _require(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{name}: {message}")


@dataclass(frozen=True, slots=True)
class Scenario:
    """What happens during a run, besides the periodic status and health reports."""

    duration_s: float = 60.0
    alert_rate: float = 0.0
    kind_weights: Mapping[AlertKind, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    storm_count: int = 0
    storm_window_s: float = 10.0
    storm_at_s: float = 1.0
    offline_fraction: float = 0.0
    offline_for_s: float = 10.0
    malformed_rate: float = 0.0

    def __post_init__(self) -> None:
        _require(self.duration_s > 0, "duration_s", "must be > 0")
        _require(self.alert_rate >= 0, "alert_rate", "must be >= 0")
        _require(all(w >= 0 for w in self.kind_weights.values()), "kind_weights", "must be >= 0")
        _require(
            self.alert_rate == 0 or _help_weight(self.kind_weights) > 0,
            "kind_weights",
            "at least one kind other than cancel needs a weight > 0",
        )
        _require(self.storm_count >= 0, "storm_count", "must be >= 0")
        _require(self.storm_window_s > 0, "storm_window_s", "must be > 0")
        _require(self.storm_at_s >= 0, "storm_at_s", "must be >= 0")
        _require(0 <= self.offline_fraction <= 1, "offline_fraction", "must be in [0, 1]")
        _require(self.offline_for_s >= 0, "offline_for_s", "must be >= 0")
        _require(self.malformed_rate >= 0, "malformed_rate", "must be >= 0")


@dataclass(frozen=True, slots=True)
class Press:
    """A button press (a ``cancel`` cancels the terminal's latest help request)."""

    terminal_id: str
    kind: AlertKind
    #: Pressed in the storm or after it began (see :func:`during_storm`).
    storm: bool = False


@dataclass(frozen=True, slots=True)
class GoOffline:
    """Drop off the network ungracefully and come back after ``for_s``."""

    terminal_id: str
    for_s: float


@dataclass(frozen=True, slots=True)
class SendMalformed:
    """Publish one malformed payload."""

    terminal_id: str
    klass: Malformed


Action = Press | GoOffline | SendMalformed


@dataclass(frozen=True, slots=True)
class Planned:
    """An action and its time, in seconds from the start of the scenario."""

    at: float
    action: Action


def parse_weights(text: str) -> dict[AlertKind, float]:
    """``"emergency=3,meal=1"`` → weights; kinds not named get weight 0."""
    weights = dict.fromkeys(AlertKind, 0.0)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        try:
            kind = AlertKind(name.strip())
            weight = float(value) if sep else 1.0
        except ValueError:
            kinds = ", ".join(k.value for k in AlertKind)
            raise ValueError(
                f"bad weight {part!r}: use KIND=NUMBER with KIND one of {kinds}"
            ) from None
        if weight < 0:
            raise ValueError(f"bad weight {part!r}: must be >= 0")
        weights[kind] = weight
    return weights


def _help_weight(weights: Mapping[AlertKind, float]) -> float:
    return sum(w for k, w in weights.items() if k is not AlertKind.CANCEL)


def _poisson_times(rate: float, duration: float, rng: random.Random) -> list[float]:
    times: list[float] = []
    if rate <= 0:
        return times
    at = rng.expovariate(rate)
    while at < duration:
        times.append(at)
        at += rng.expovariate(rate)
    return times


def _presses(scenario: Scenario, ids: Sequence[str], rng: random.Random) -> list[Planned]:
    kinds = list(scenario.kind_weights)
    weights = [scenario.kind_weights[k] for k in kinds]
    without_cancel = [
        0.0 if k is AlertKind.CANCEL else w for k, w in zip(kinds, weights, strict=True)
    ]
    pressed: list[str] = []  # terminals with an earlier help request, in order
    planned: list[Planned] = []
    for at in _poisson_times(scenario.alert_rate, scenario.duration_s, rng):
        kind = rng.choices(kinds, weights)[0]
        if kind is AlertKind.CANCEL and not pressed:
            kind = rng.choices(kinds, without_cancel)[0]
        terminal = rng.choice(pressed) if kind is AlertKind.CANCEL else rng.choice(ids)
        if kind not in (AlertKind.CANCEL, AlertKind.TEST):
            pressed.append(terminal)
        planned.append(Planned(at, Press(terminal, kind, storm=during_storm(scenario, at))))
    return planned


def during_storm(scenario: Scenario, at: float) -> bool:
    """True for a press at ``at`` once a storm has begun: it meets the storm's backlog
    (also after the storm's window, while that drains), so its latency counts with the
    storm's, not with the nominal presses before it."""
    return scenario.storm_count > 0 and at >= scenario.storm_at_s


def _storm(scenario: Scenario, ids: Sequence[str], rng: random.Random) -> list[Planned]:
    chosen = rng.sample(list(ids), min(scenario.storm_count, len(ids)))
    start, window = scenario.storm_at_s, scenario.storm_window_s
    return [
        Planned(start + rng.uniform(0, window), Press(t, AlertKind.EMERGENCY, storm=True))
        for t in chosen
    ]


def _offline(scenario: Scenario, ids: Sequence[str], rng: random.Random) -> list[Planned]:
    chosen = rng.sample(list(ids), round(scenario.offline_fraction * len(ids)))
    latest = scenario.duration_s * 0.8
    return [Planned(rng.uniform(0, latest), GoOffline(t, scenario.offline_for_s)) for t in chosen]


def _malformed(scenario: Scenario, ids: Sequence[str], rng: random.Random) -> list[Planned]:
    classes = list(Malformed)
    return [
        Planned(at, SendMalformed(rng.choice(ids), rng.choice(classes)))
        for at in _poisson_times(scenario.malformed_rate, scenario.duration_s, rng)
    ]


def plan(scenario: Scenario, terminal_ids: Sequence[str], rng: random.Random) -> list[Planned]:
    """Every planned action of a run, in time order."""
    if not terminal_ids:
        return []
    planned = [
        *_presses(scenario, terminal_ids, rng),
        *_storm(scenario, terminal_ids, rng),
        *_offline(scenario, terminal_ids, rng),
        *_malformed(scenario, terminal_ids, rng),
    ]
    return sorted(planned, key=lambda p: p.at)
