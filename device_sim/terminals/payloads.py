"""What a simulated terminal says: vitals, device status and ids (pure, seeded by the caller)."""

from __future__ import annotations

import random
import zlib

from firmware_protocol.messages import Status, TerminalState, Vitals

#: Dangerous vitals, in turn: tachycardia, low oxygen saturation, a detected fall.
DANGEROUS_VITALS = (
    Vitals(heart_rate_bpm=160, spo2_pct=96.0),
    Vitals(heart_rate_bpm=88, spo2_pct=85.0),
    Vitals(heart_rate_bpm=95, fall_detected=True),
)


def normal_vitals(rng: random.Random) -> Vitals:
    """Unremarkable vitals of an elder at rest."""
    return Vitals(
        bp_systolic_mmhg=rng.randint(110, 135),
        bp_diastolic_mmhg=rng.randint(70, 85),
        heart_rate_bpm=rng.randint(60, 90),
        spo2_pct=float(rng.randint(95, 99)),
        body_temp_c=round(rng.uniform(36.3, 37.2), 1),
        steps=rng.randint(0, 6000),
        fall_detected=False,
    )


def dangerous_vitals(index: int) -> Vitals:
    """The ``index``-th dangerous vitals, cycling through :data:`DANGEROUS_VITALS`."""
    return DANGEROUS_VITALS[index % len(DANGEROUS_VITALS)]


def device_status(
    terminal_id: str, now: float, started: float, firmware: str, state: TerminalState
) -> Status:
    """Status with a battery that drains slowly from a per-terminal level and a stable signal."""
    digest = zlib.crc32(terminal_id.encode())
    battery = 60 + digest % 41 - int((now - started) / 600)
    return Status(
        terminal_id,
        state,
        ts=round(now, 3),
        battery_pct=max(5, min(100, battery)),
        signal_dbm=-60 - (digest >> 8) % 40,
        firmware=firmware,
    )


def boot_tag(now: float) -> str:
    """A per-run tag (milliseconds, hex) that keeps ids unique across runs."""
    return format(int(now * 1000), "x")


def message_id(prefix: str, boot: str, seq: int) -> str:
    """``{prefix}{boot}-{seq:04d}``, e.g. ``b18c2f3a9b1-0007``."""
    return f"{prefix}{boot}-{seq:04d}"
