"""How the simulated command center misbehaves: the failure mode and the random 5xx (pure)."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Mode(enum.StrEnum):
    """``ok`` answers normally; ``fail`` answers ``status``; ``slow`` waits ``delay_s`` first;
    ``down`` stops listening (connections are refused)."""

    OK = "ok"
    FAIL = "fail"
    SLOW = "slow"
    DOWN = "down"


@dataclass(frozen=True, slots=True)
class ModeSetting:
    """A mode with its parameters; ``until`` (unix time) ends it, ``None`` keeps it."""

    mode: Mode = Mode.OK
    status: int = 503
    delay_s: float = 2.0
    until: float | None = None

    def to_json(self) -> dict[str, Any]:
        """For ``/records`` and ``/control`` answers."""
        return {
            "mode": self.mode.value,
            "status": self.status,
            "delay_s": self.delay_s,
            "until": self.until,
        }


@dataclass(frozen=True, slots=True)
class Answer:
    """What to do with one webhook: wait ``delay_s``, then fail with ``status`` or process."""

    status: int | None = None  # None: process normally
    delay_s: float = 0.0


CONTROL_KEYS = frozenset({"mode", "status", "delay_s", "for_s"})


def _number(doc: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = doc.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{key}: must be a number")
    if not low <= value <= high:
        raise ValueError(f"{key}: must be in [{low}, {high}]")
    return float(value)


def parse_control(doc: object, now: float) -> ModeSetting:
    """A ``POST /control`` body → setting; ``ValueError`` names the offending key."""
    if not isinstance(doc, dict):
        raise ValueError("body: must be a JSON object")
    unknown = set(doc) - CONTROL_KEYS
    if unknown:
        raise ValueError(f"{sorted(unknown)[0]}: unknown key (allowed: {sorted(CONTROL_KEYS)})")
    try:
        mode = Mode(str(doc.get("mode")))
    except ValueError:
        raise ValueError(f"mode: must be one of {[m.value for m in Mode]}") from None
    status = _number(doc, "status", 503, 500, 599)
    if status != int(status):
        raise ValueError("status: must be an integer")
    delay = _number(doc, "delay_s", 2.0, 0, 300)
    for_s = doc.get("for_s")
    until = None if for_s is None else now + _number(doc, "for_s", 0, 0, 86_400)
    return ModeSetting(mode, int(status), delay, until)


class ModeSwitch:
    """The current mode (reverting to ``ok`` when its time is up) and the random failures."""

    def __init__(self, fail_rate: float = 0.0, fail_status: int = 503) -> None:
        if not 0 <= fail_rate <= 1:
            raise ValueError(f"fail_rate: must be in [0, 1], got {fail_rate}")
        self._setting = ModeSetting()
        self._fail_rate = fail_rate
        self._fail_status = fail_status

    def set(self, setting: ModeSetting) -> None:
        """Switch to ``setting``."""
        self._setting = setting

    def current(self, now: float) -> ModeSetting:
        """The setting in force at ``now``."""
        until = self._setting.until
        if until is not None and now >= until:
            self._setting = ModeSetting()
        return self._setting

    def answer(self, now: float, draw: float) -> Answer:
        """How to answer a webhook at ``now``; ``draw`` is uniform in [0, 1)."""
        setting = self.current(now)
        if setting.mode in (Mode.FAIL, Mode.DOWN):
            # DOWN: a request that slipped in on a connection still open while closing.
            return Answer(status=setting.status)
        if draw < self._fail_rate:
            return Answer(status=self._fail_status)
        if setting.mode is Mode.SLOW:
            return Answer(delay_s=setting.delay_s)
        return Answer()
