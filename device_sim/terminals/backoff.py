"""Retry delays: exponential growth, a cap and proportional jitter.

One pure helper for every wait-and-retry in the simulators: alert retransmission
(2, 4, 8 … s, capped at 30 s, ±20 %), broker reconnects and the command center's
calls to the gateway API. Anything with ``delay(attempt)`` can stand in for it, so
tests inject short or fixed schedules.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class RetrySchedule(Protocol):
    """The wait in seconds before retry ``attempt`` (0-based)."""

    def delay(self, attempt: int) -> float: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    """``base * factor**attempt`` capped, spread by ``±jitter`` (a fraction), capped again."""

    base: float = 2.0
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.base <= 0:
            raise ValueError(f"base must be > 0, got {self.base}")
        if self.factor < 1:
            raise ValueError(f"factor must be >= 1, got {self.factor}")
        if self.cap < self.base:
            raise ValueError(f"cap ({self.cap}) must be >= base ({self.base})")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter}")

    def ceiling(self, attempt: int) -> float:
        """The un-jittered delay before retry ``attempt``; never above ``cap``."""
        if attempt < 0:
            raise ValueError("attempt must be >= 0")
        # Bound the exponent first: factor**2000 overflows a float.
        return float(min(self.cap, self.base * self.factor ** min(attempt, 64)))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """A delay within ``ceiling ± jitter``, never above ``cap``."""
        ceiling = self.ceiling(attempt)
        spread = ceiling * self.jitter
        return min(self.cap, ceiling + (rng or random).uniform(-spread, spread))


@dataclass(frozen=True, slots=True)
class FixedDelays:
    """Delays taken from a list; the last one repeats. For tests and benchmarks."""

    delays: Sequence[float]

    def __post_init__(self) -> None:
        if not self.delays or min(self.delays) < 0:
            raise ValueError("delays must be a non-empty list of non-negative seconds")

    def delay(self, attempt: int) -> float:
        """The listed delay for ``attempt``, or the last one."""
        return float(self.delays[min(attempt, len(self.delays) - 1)])


#: Alert retransmission as the protocol asks: 2, 4, 8 … s, cap 30 s, ±20 %.
ALERT_RETRY = Backoff(base=2.0, factor=2.0, cap=30.0, jitter=0.2)
#: Reconnecting to a broker that went away.
RECONNECT = Backoff(base=1.0, factor=2.0, cap=30.0, jitter=0.2)
