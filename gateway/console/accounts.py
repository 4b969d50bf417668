"""Console accounts: who may log in, with which role, over which region.

Passwords are stored as argon2id hashes (argon2-cffi). Hashing and verifying take tens
of milliseconds of CPU on purpose, so they run in a worker thread, never on the loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from gateway.errors import ConfigError, GatewayError
from gateway.store.db import Database

log = logging.getLogger(__name__)

ROLES = ("operator", "technician", "admin")
LANGUAGES = ("zh", "en")
USERNAME_RE = re.compile(r"^[\w.@-]{1,64}$")


class AccountError(GatewayError):
    """An account change that cannot be made; the message says why (shown to the admin).

    ``key`` and ``values`` name the same message in the console's translations.
    """

    def __init__(self, message: str, key: str = "", **values: Any) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


class UsernameTaken(AccountError):
    """An account with that user name exists already."""


@dataclass(frozen=True, slots=True)
class Account:
    """A console account (never carries the password hash)."""

    username: str
    role: str
    region: tuple[str, ...]
    language: str
    disabled: bool
    created_at: float


class Passwords:
    """argon2id hashing off the event loop."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> tuple[bool, str | None]:
        """Whether ``password`` matches, and a fresh hash when the stored one is outdated.

        ``stored=None`` (unknown user) still spends the time of a verification, so the
        response time does not tell which user names exist.
        """
        if stored is None:
            if self._dummy is None:
                self._dummy = await self.hash("not a password of anyone")
            await asyncio.to_thread(self._check, self._dummy, password)
            return False, None
        if not await asyncio.to_thread(self._check, stored, password):
            return False, None
        if self._hasher.check_needs_rehash(stored):
            return True, await self.hash(password)
        return True, None

    def _check(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def _account(row: aiosqlite.Row) -> Account:
    return Account(
        row["username"], row["role"], tuple(json.loads(row["region"])), row["language"],
        bool(row["disabled"]), row["created_at"],
    )  # fmt: skip


def check_new_account(
    username: str, password: str, role: str, region: Sequence[str], language: str, min_length: int
) -> None:
    """Raise :class:`AccountError` naming what is wrong with a new account's fields."""
    if not USERNAME_RE.match(username):
        raise AccountError(
            "user name: 1–64 letters, digits, '.', '_', '@' or '-'", "accounts.bad_username"
        )
    check_password(password, min_length)
    if role not in ROLES:
        raise AccountError(f"role: one of {', '.join(ROLES)}", "accounts.bad_role")
    check_region(region)
    if language not in ("", *LANGUAGES):
        raise AccountError(
            f"language: empty (site default) or one of {', '.join(LANGUAGES)}",
            "accounts.bad_language",
        )


def check_password(password: str, min_length: int) -> None:
    if len(password) < min_length:
        raise AccountError(
            f"password: at least {min_length} characters", "accounts.bad_password", min=min_length
        )


def check_region(region: Sequence[str]) -> None:
    if len(region) > 3 or not all(part.strip() for part in region):
        raise AccountError(
            "region: up to three non-empty parts (district, town, village)", "accounts.bad_region"
        )


class AccountStore:
    """The ``accounts`` table."""

    def __init__(
        self, db: Database, passwords: Passwords | None = None,
        clock: Callable[[], float] = time.time, min_password_length: int = 10,
    ) -> None:  # fmt: skip
        self._db = db
        self.passwords = passwords or Passwords()
        self._clock = clock
        self._min_length = min_password_length

    async def count(self) -> int:
        async with self._db.reader.execute("SELECT count(*) FROM accounts") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def get(self, username: str) -> Account | None:
        async with self._db.reader.execute(
            "SELECT * FROM accounts WHERE username = ?", (username,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _account(row)

    async def all(self) -> list[Account]:
        async with self._db.reader.execute("SELECT * FROM accounts ORDER BY username") as cursor:
            return [_account(row) async for row in cursor]

    async def authenticate(self, username: str, password: str) -> Account | None:
        """The account when the password matches and it is enabled; else ``None``."""
        async with self._db.reader.execute(
            "SELECT * FROM accounts WHERE username = ?", (username,)
        ) as cursor:
            row = await cursor.fetchone()
        ok, rehashed = await self.passwords.verify(row["password_hash"] if row else None, password)
        if row is None or not ok or row["disabled"]:
            return None
        if rehashed is not None:
            async with self._db.transaction() as conn:
                await conn.execute(
                    "UPDATE accounts SET password_hash = ? WHERE username = ?", (rehashed, username)
                )
        return _account(row)

    async def create(
        self, username: str, password: str, role: str,
        region: Sequence[str] = (), language: str = "",
    ) -> Account:  # fmt: skip
        """Add an account; :class:`AccountError` if a field is invalid or the name is taken."""
        check_new_account(username, password, role, region, language, self._min_length)
        hashed = await self.passwords.hash(password)
        now = self._clock()
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO accounts (username, password_hash, role, region, language,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING",
                (username, hashed, role, json.dumps(list(region), ensure_ascii=False),
                 language, now),
            )  # fmt: skip
            if cursor.rowcount == 0:
                raise UsernameTaken(f"user name {username!r} is taken", "accounts.taken")
        return Account(username, role, tuple(region), language, False, now)

    async def set_disabled(self, username: str, disabled: bool) -> bool:
        """Disable (ending its sessions) or enable an account; False if unknown."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE accounts SET disabled = ? WHERE username = ?", (int(disabled), username)
            )
            if disabled:
                await conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
            return cursor.rowcount > 0

    async def set_region(self, username: str, region: Sequence[str]) -> bool:
        """Rescope an account (ending its sessions, which carry no scope of their own
        but should not outlive a change of duty); False if unknown."""
        check_region(region)
        encoded = json.dumps(list(region), ensure_ascii=False)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE accounts SET region = ? WHERE username = ?", (encoded, username)
            )
            await conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
            return cursor.rowcount > 0

    async def set_password(self, username: str, password: str) -> bool:
        """Replace the password and end every session of the account; False if unknown."""
        check_password(password, self._min_length)
        hashed = await self.passwords.hash(password)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE accounts SET password_hash = ? WHERE username = ?", (hashed, username)
            )
            await conn.execute("DELETE FROM sessions WHERE username = ?", (username,))
            return cursor.rowcount > 0

    async def set_language(self, username: str, language: str) -> None:
        if language not in LANGUAGES:
            raise AccountError(f"language: one of {', '.join(LANGUAGES)}", "accounts.bad_language")
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE accounts SET language = ? WHERE username = ?", (language, username)
            )


async def create_account(
    db: Database, username: str, password: str, role: str, region: Sequence[str] = (),
    language: str = "", *, passwords: Passwords | None = None,
) -> Account:  # fmt: skip
    """Add an account to ``db`` (see :meth:`AccountStore.create`)."""
    return await AccountStore(db, passwords).create(username, password, role, region, language)


async def bootstrap_admin(
    accounts: AccountStore, username: str, password_env: str, environ: Mapping[str, str]
) -> bool:
    """Create the first admin from ``$password_env`` when no account exists yet.

    Returns whether it was created. With no accounts and no usable password the console
    could never be entered, so that is a :class:`ConfigError` naming the variable.
    """
    if await accounts.count() > 0:
        return False
    password = environ.get(password_env, "")
    try:
        await accounts.create(username, password, "admin")
    except UsernameTaken:  # another gateway process created it first
        return False
    except AccountError as exc:
        raise ConfigError(
            f"console.admin_password_env: no console account exists yet; set ${password_env}"
            f" to the first admin's password ({exc})"
        ) from exc
    log.info("created the first console admin %r", username)
    return True
