"""The messages of protocol v1 as plain, immutable values.

Uplink (terminal → gateway): :class:`Alert`, :class:`Health`, :class:`Status`.
Downlink (gateway → terminal): :class:`Ack`, :class:`Command`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

VERSION = 1
#: Largest accepted payload in bytes; anything larger is rejected unread.
MAX_PAYLOAD_BYTES = 2048
#: Alerts the gateway raises itself (dangerous vitals) have id ``v-{report_id}``;
#: terminals never use this prefix for their own alert ids.
GATEWAY_ALERT_PREFIX = "v-"


class AlertKind(enum.StrEnum):
    """What the elder pressed, plus ``cancel`` and the periodic self-test."""

    EMERGENCY = "emergency"
    NURSING = "nursing"
    MEAL = "meal"
    MOBILITY = "mobility"
    MEDICAL = "medical"
    ERRAND = "errand"
    CANCEL = "cancel"
    TEST = "test"


#: Kinds that ask for help (everything but cancel and test).
HELP_KINDS = frozenset(
    {
        AlertKind.EMERGENCY,
        AlertKind.NURSING,
        AlertKind.MEAL,
        AlertKind.MOBILITY,
        AlertKind.MEDICAL,
        AlertKind.ERRAND,
    }
)


class Stage(enum.StrEnum):
    """How far help has come, in order. A terminal shows the highest it has seen."""

    RECEIVED = "received"
    DELIVERED = "delivered"
    ACCEPTED = "accepted"
    RESOLVED = "resolved"

    @property
    def rank(self) -> int:
        """Position in the order received < delivered < accepted < resolved."""
        return _STAGE_ORDER.index(self)


_STAGE_ORDER = (Stage.RECEIVED, Stage.DELIVERED, Stage.ACCEPTED, Stage.RESOLVED)


class TerminalState(enum.StrEnum):
    """Availability as published on the retained status topic."""

    ONLINE = "online"
    OFFLINE = "offline"


class CommandName(enum.StrEnum):
    """Downlink commands."""

    CALL_BACK = "call_back"
    CONFIG = "config"


@dataclass(frozen=True, slots=True)
class Alert:
    """A button press (or cancel / self-test). ``alert_id`` is reused on retransmission."""

    terminal_id: str
    alert_id: str
    kind: AlertKind
    ts: float
    cancels: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Vitals:
    """Vital signs; every field optional, at least one present. Units in the field names."""

    bp_systolic_mmhg: int | None = None
    bp_diastolic_mmhg: int | None = None
    heart_rate_bpm: int | None = None
    spo2_pct: float | None = None
    body_temp_c: float | None = None
    glucose_mmol_l: float | None = None
    steps: int | None = None
    fall_detected: bool | None = None

    def present(self) -> dict[str, Any]:
        """Only the vitals that were reported."""
        return {
            name: getattr(self, name) for name in self.__slots__ if getattr(self, name) is not None
        }


@dataclass(frozen=True, slots=True)
class Health:
    """A health report. ``report_id`` is unique per terminal, reused on retransmission."""

    terminal_id: str
    report_id: str
    ts: float
    vitals: Vitals


@dataclass(frozen=True, slots=True)
class Status:
    """Availability and device status (battery, signal, firmware)."""

    terminal_id: str
    state: TerminalState
    ts: float | None = None
    battery_pct: int | None = None
    signal_dbm: int | None = None
    firmware: str | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    """Gateway → terminal: the stage an alert has reached."""

    alert_id: str
    stage: Stage
    ts: float
    by: str | None = None
    eta_s: int | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Command:
    """Gateway → terminal command; ``args`` depend on ``cmd``."""

    cmd_id: str
    cmd: CommandName
    ts: float
    args: dict[str, Any] = field(default_factory=dict)


Uplink = Alert | Health | Status
