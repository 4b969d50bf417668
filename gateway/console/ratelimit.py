"""Failed-login limits per user name and per client address.

Failures are kept in SQLite rather than in memory: several gateway processes serve the
console, and a per-process counter would give an attacker one allowance per process and
a fresh one at every restart. Failed logins are rare, so the writes cost nothing that
matters; rows older than the window are purged on every write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from gateway.store.db import Database


def retry_after(
    failures: Sequence[float], now: float, max_failures: int, window_s: float
) -> float | None:
    """Seconds until another attempt is allowed, or ``None`` when one is allowed now."""
    recent = sorted(at for at in failures if at > now - window_s)
    if len(recent) < max_failures:
        return None
    # Allowed again once enough of the oldest failures have left the window.
    return recent[len(recent) - max_failures] + window_s - now


def user_key(username: str) -> str:
    return "user:" + username.casefold()[:64]


def ip_key(address: str) -> str:
    return "ip:" + address[:64]


class LoginLimiter:
    """Counts failed logins in the ``login_failures`` table."""

    def __init__(
        self, db: Database, window_s: float, per_user: int, per_ip: int,
        clock: Callable[[], float] = time.time,
    ) -> None:  # fmt: skip
        self._db = db
        self._window = window_s
        self._limits = {"user": per_user, "ip": per_ip}
        self._clock = clock

    async def retry_after(self, username: str, address: str) -> float | None:
        """Seconds to wait when this user name or address is locked out, else ``None``."""
        now = self._clock()
        waits = []
        for key in (user_key(username), ip_key(address)):
            async with self._db.reader.execute(
                "SELECT at FROM login_failures WHERE key = ? AND at > ?", (key, now - self._window)
            ) as cursor:
                failures = [row[0] async for row in cursor]
            limit = self._limits[key.partition(":")[0]]
            wait = retry_after(failures, now, limit, self._window)
            if wait is not None:
                waits.append(wait)
        return max(waits, default=None)

    async def failed(self, username: str, address: str) -> None:
        now = self._clock()
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM login_failures WHERE at <= ?", (now - self._window,))
            await conn.executemany(
                "INSERT INTO login_failures (key, at) VALUES (?, ?)",
                [(user_key(username), now), (ip_key(address), now)],
            )

    async def succeeded(self, username: str) -> None:
        """A correct password clears the user name's failures (not the address's)."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM login_failures WHERE key = ?", (user_key(username),))
