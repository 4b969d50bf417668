"""Console sessions: an opaque random id in a cookie, its SHA-256 in SQLite.

Stored in the database so that every gateway process serving the console knows every
session. Each session carries its own CSRF token (synchronizer token). A session lives
``ttl_s`` and is renewed when it is used past half its life, so a wall display that
stays open keeps its login while one left alone expires.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.operations import Actor
from gateway.store.db import Database

COOKIE = "ec_session"


@dataclass(frozen=True, slots=True)
class Login:
    """A live session and the enabled account behind it."""

    session_id: str
    username: str
    role: str
    region: tuple[str, ...]
    language: str
    csrf: str
    expires_at: float

    @property
    def actor(self) -> Actor:
        return Actor(self.username, self.role, self.region)


def digest(session_id: str) -> str:
    """What is stored for a session id: a leaked table holds no usable cookie."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """The ``sessions`` table."""

    def __init__(self, db: Database, ttl_s: float, clock: Callable[[], float] = time.time):
        self._db = db
        self._ttl = ttl_s
        self._clock = clock

    async def create(self, username: str) -> str:
        """Open a session for ``username``; returns the id for the cookie."""
        session_id = secrets.token_urlsafe(32)
        now = self._clock()
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
            await conn.execute(
                "INSERT INTO sessions (id_hash, username, created_at, expires_at, csrf)"
                " VALUES (?, ?, ?, ?, ?)",
                (digest(session_id), username, now, now + self._ttl, secrets.token_urlsafe(32)),
            )
        return session_id

    async def lookup(self, session_id: str | None) -> Login | None:
        """The session's login if it is live and its account enabled; else ``None``."""
        if not session_id or len(session_id) > 128:
            return None
        now = self._clock()
        async with self._db.reader.execute(
            "SELECT s.expires_at, s.csrf, a.username, a.role, a.region, a.language"
            " FROM sessions s JOIN accounts a ON a.username = s.username"
            " WHERE s.id_hash = ? AND s.expires_at > ? AND a.disabled = 0",
            (digest(session_id), now),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        expires_at = row["expires_at"]
        if expires_at - now < self._ttl / 2:
            expires_at = await self._renew(session_id, now)
        return Login(
            session_id, row["username"], row["role"], tuple(json.loads(row["region"])),
            row["language"], row["csrf"], expires_at,
        )  # fmt: skip

    async def _renew(self, session_id: str, now: float) -> float:
        expires_at = now + self._ttl
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE sessions SET expires_at = ? WHERE id_hash = ?",
                (expires_at, digest(session_id)),
            )
        return expires_at

    async def delete(self, session_id: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM sessions WHERE id_hash = ?", (digest(session_id),))
