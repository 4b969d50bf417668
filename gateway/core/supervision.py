"""Terminal supervision: silent or dead terminals become events. Pure.

A terminal is declared offline when it has been silent for the reporting time, or
``will_grace_s`` after its last will arrived (and nothing since). It is restored by the
next message. Flap damping: each offline adds a penalty that halves every
``flap_half_life_s``; at ``flap_suppress_at`` the terminal is muted (one
``terminal.flapping`` event) until the penalty decays under ``flap_reuse_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from gateway.config import SupervisionConfig


@dataclass(frozen=True, slots=True)
class TerminalRow:
    """The supervision columns of ``terminal_state``."""

    terminal_id: str
    last_seen: float
    online: bool
    reported_offline: bool
    will_at: float | None
    offline_at: float | None
    flap_penalty: float
    flap_at: float
    muted: bool
    last_selftest_at: float | None
    selftest_missed: bool


def decayed(penalty: float, since: float, half_life: float) -> float:
    """``penalty`` after ``since`` seconds of exponential decay."""
    return float(penalty * 0.5 ** (max(0.0, since) / half_life))


def _goes_offline(row: TerminalRow, now: float, cfg: SupervisionConfig) -> bool:
    silent = now - row.last_seen > cfg.reporting_time_s
    will = row.will_at is not None and now - row.will_at >= cfg.will_grace_s
    return row.online and (silent or will)


def _offline(row: TerminalRow, now: float, cfg: SupervisionConfig) -> tuple[TerminalRow, list[str]]:
    penalty = decayed(row.flap_penalty, now - row.flap_at, cfg.flap_half_life_s)
    penalty += cfg.flap_penalty
    row = replace(row, online=False, offline_at=now, flap_penalty=penalty, flap_at=now)
    if row.muted:
        return row, []
    if penalty >= cfg.flap_suppress_at:
        return replace(row, muted=True), ["terminal.flapping"]
    return replace(row, reported_offline=True), ["terminal.offline"]


def _unmute(row: TerminalRow, now: float, cfg: SupervisionConfig) -> tuple[TerminalRow, list[str]]:
    penalty = decayed(row.flap_penalty, now - row.flap_at, cfg.flap_half_life_s)
    if penalty >= cfg.flap_reuse_at:
        return row, []
    row = replace(row, muted=False, flap_penalty=penalty, flap_at=now)
    if not row.online and not row.reported_offline:
        return replace(row, reported_offline=True), ["terminal.offline"]
    return row, []


def step(row: TerminalRow, now: float, cfg: SupervisionConfig) -> tuple[TerminalRow, list[str]]:
    """Advance one terminal to ``now``; return its new row and the event types raised."""
    events: list[str] = []
    if _goes_offline(row, now, cfg):
        row, raised = _offline(row, now, cfg)
        events += raised
    elif not row.online and row.will_at is None and row.last_seen > (row.offline_at or 0):
        row = replace(row, online=True)
        if row.reported_offline and not row.muted:
            row = replace(row, reported_offline=False)
            events.append("terminal.restored")
    if row.muted:
        row, raised = _unmute(row, now, cfg)
        events += raised
    due = cfg.selftest_interval_s + cfg.selftest_grace_s
    if (
        row.last_selftest_at is not None
        and not row.selftest_missed
        and now - row.last_selftest_at > due
    ):
        row = replace(row, selftest_missed=True)
        events.append("terminal.selftest_missed")
    return row, events
