"""The one retry policy: exponential backoff with full jitter and a cap.

Used by every retry in the gateway (broker reconnects, webhook deliveries, camera
re-probes) so that retry behaviour is tuned and tested in one place.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """``delay(n)`` is the wait before retry ``n`` (0-based)."""

    base: float = 1.0
    cap: float = 300.0
    factor: float = 2.0

    def ceiling(self, attempt: int) -> float:
        """Upper bound of the delay before retry ``attempt``; never above ``cap``."""
        if attempt < 0:
            raise ValueError("attempt must be >= 0")
        # Past the cap the exact power does not matter, and a large one overflows.
        try:
            return float(min(self.cap, self.base * self.factor ** min(attempt, 64)))
        except OverflowError:
            return self.cap

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """A jittered delay in ``[ceiling/2, ceiling]`` ("equal jitter").

        Half the ceiling is kept so that a retry storm still spreads out but a
        single retry is never immediate.
        """
        ceiling = self.ceiling(attempt)
        draw = (rng or random).random()
        return ceiling / 2 + draw * ceiling / 2
