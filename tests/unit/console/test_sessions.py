"""Sessions in SQLite, and SessionAuth as an API authenticator."""

from __future__ import annotations

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import Request

from gateway.console.accounts import AccountStore
from gateway.console.auth import SessionAuth
from gateway.console.sessions import COOKIE, SessionStore, digest
from gateway.operations import Actor
from gateway.store.db import Database
from tests.unit.console.conftest import FakeClock
from tests.unit.console.factory import DONGCUN, FAST_PASSWORDS

TTL = 3600.0


async def _store(db: Database, clock: FakeClock) -> SessionStore:
    await AccountStore(db, FAST_PASSWORDS).create("wang", "a long password", "operator", DONGCUN)
    return SessionStore(db, TTL, clock)


async def test_session_round_trip(db: Database, clock: FakeClock) -> None:
    sessions = await _store(db, clock)
    session_id = await sessions.create("wang")
    login = await sessions.lookup(session_id)
    assert login is not None
    assert login.actor == Actor("wang", "operator", DONGCUN)
    assert len(login.csrf) >= 32
    await sessions.delete(session_id)
    assert await sessions.lookup(session_id) is None


async def test_only_a_digest_is_stored(db: Database, clock: FakeClock) -> None:
    session_id = await (await _store(db, clock)).create("wang")
    async with db.reader.execute("SELECT id_hash FROM sessions") as cursor:
        stored = [row[0] async for row in cursor]
    assert stored == [digest(session_id)]
    assert session_id not in stored


async def test_session_expires_unless_used(db: Database, clock: FakeClock) -> None:
    sessions = await _store(db, clock)
    kept, idle = await sessions.create("wang"), await sessions.create("wang")
    clock.advance(TTL * 0.6)
    renewed = await sessions.lookup(kept)
    assert renewed is not None
    assert renewed.expires_at == pytest.approx(clock.now + TTL)
    clock.advance(TTL * 0.5)
    assert await sessions.lookup(kept) is not None
    assert await sessions.lookup(idle) is None


async def test_disabling_an_account_ends_its_sessions(db: Database, clock: FakeClock) -> None:
    sessions = await _store(db, clock)
    session_id = await sessions.create("wang")
    await AccountStore(db, FAST_PASSWORDS).set_disabled("wang", True)
    assert await sessions.lookup(session_id) is None


@pytest.mark.parametrize("value", [None, "", "x" * 500, "forged"])
async def test_bad_cookies_find_nothing(db: Database, clock: FakeClock, value: str | None) -> None:
    assert await (await _store(db, clock)).lookup(value) is None


def _request(method: str, cookie: str | None, headers: dict[str, str] | None = None) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if cookie is not None:
        raw.append((b"cookie", f"{COOKIE}={cookie}".encode()))
    return Request({"type": "http", "method": method, "path": "/", "headers": raw, "state": {}})


async def test_session_auth_answers_with_the_account(db: Database, clock: FakeClock) -> None:
    sessions = await _store(db, clock)
    auth = SessionAuth(sessions)
    session_id = await sessions.create("wang")
    assert await auth(_request("GET", session_id)) == Actor("wang", "operator", DONGCUN)
    assert await auth(_request("GET", None)) is None
    assert await auth(_request("GET", "forged")) is None


async def test_session_auth_needs_the_csrf_header_to_change_things(
    db: Database, clock: FakeClock
) -> None:
    sessions = await _store(db, clock)
    auth = SessionAuth(sessions)
    session_id = await sessions.create("wang")
    with pytest.raises(HTTPException) as caught:
        await auth(_request("POST", session_id))
    assert caught.value.status_code == 403
    login = await sessions.lookup(session_id)
    assert login is not None
    request = _request("POST", session_id, {"X-CSRF-Token": login.csrf})
    assert await auth(request) == login.actor
