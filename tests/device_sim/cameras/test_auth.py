from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device_sim.cameras.auth import (
    NONCE_LIFETIME_S,
    REALM,
    AuthResult,
    Credentials,
    challenge,
    check,
    derive_password,
    make_nonce,
    nonce_age,
    parse_params,
)

SECRET = b"s" * 32
NOW = 1_700_000_000.0
CREDS = Credentials("admin", "secret1")
URI = "rtsp://127.0.0.1:8601/stream"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _digest(nonce: str, password: str = "secret1", method: str = "DESCRIBE") -> str:
    ha1 = _md5(f"admin:{REALM}:{password}")
    ha2 = _md5(f"{method}:{URI}")
    response = _md5(f"{ha1}:{nonce}:{ha2}")
    return (
        f'Digest username="admin", realm="{REALM}", nonce="{nonce}", uri="{URI}", '
        f'response="{response}", algorithm="MD5"'
    )


def test_digest_without_qop_is_accepted() -> None:
    nonce = make_nonce(SECRET, NOW)
    assert check(_digest(nonce), "DESCRIBE", CREDS, SECRET, NOW + 5) is AuthResult.OK


def test_digest_with_qop_auth_is_accepted() -> None:
    nonce = make_nonce(SECRET, NOW)
    ha1 = _md5(f"admin:{REALM}:secret1")
    ha2 = _md5(f"SETUP:{URI}")
    response = _md5(f"{ha1}:{nonce}:00000001:abcd:auth:{ha2}")
    header = (
        f'Digest username="admin", realm="{REALM}", nonce="{nonce}", uri="{URI}", '
        f'response="{response}", qop=auth, nc=00000001, cnonce="abcd"'
    )
    assert check(header, "SETUP", CREDS, SECRET, NOW) is AuthResult.OK


@pytest.mark.parametrize(
    "header",
    [
        _digest(make_nonce(SECRET, NOW), password="wrong"),
        _digest(make_nonce(b"other" * 8, NOW)),
        _digest("deadbeef.0000"),
        _digest(make_nonce(SECRET, NOW)).replace('username="admin"', 'username="root"'),
        _digest(make_nonce(SECRET, NOW)).replace('algorithm="MD5"', 'algorithm="SHA-256"'),
        'Digest username="admin"',
        "Bearer abc",
        "Basic !!!",
        "Basic " + base64.b64encode(b"admin:nope").decode(),
    ],
)
def test_wrong_credentials_are_invalid(header: str) -> None:
    assert check(header, "DESCRIBE", CREDS, SECRET, NOW) is AuthResult.INVALID


def test_digest_answer_is_bound_to_the_method() -> None:
    header = _digest(make_nonce(SECRET, NOW), method="DESCRIBE")
    assert check(header, "PLAY", CREDS, SECRET, NOW) is AuthResult.INVALID


def test_missing_header() -> None:
    assert check(None, "DESCRIBE", CREDS, SECRET, NOW) is AuthResult.MISSING


def test_old_nonce_is_stale() -> None:
    nonce = make_nonce(SECRET, NOW)
    later = NOW + NONCE_LIFETIME_S + 1
    assert check(_digest(nonce), "DESCRIBE", CREDS, SECRET, later) is AuthResult.STALE


def test_basic_is_accepted() -> None:
    header = "Basic " + base64.b64encode(b"admin:secret1").decode()
    assert check(header, "DESCRIBE", CREDS, SECRET, NOW) is AuthResult.OK


def test_nonce_round_trip() -> None:
    nonce = make_nonce(SECRET, NOW)
    assert nonce_age(SECRET, nonce, NOW + 3) == pytest.approx(3)
    assert nonce_age(b"x" * 32, nonce, NOW) is None


def test_challenge_offers_digest_then_basic() -> None:
    headers = challenge("n1", stale=True)
    assert [name for name, _ in headers] == ["WWW-Authenticate", "WWW-Authenticate"]
    assert headers[0][1].startswith(f'Digest realm="{REALM}", nonce="n1"')
    assert "stale=TRUE" in headers[0][1]
    assert headers[1][1] == f'Basic realm="{REALM}"'


def test_parse_params_handles_quotes_and_escapes() -> None:
    params = parse_params('username="a\\"b", realm="r, x", nc=00000001, Qop=auth')
    assert params == {"username": 'a"b', "realm": "r, x", "nc": "00000001", "qop": "auth"}


def test_passwords_are_deterministic_and_distinct() -> None:
    assert derive_password("seed", "cam-001") == derive_password("seed", "cam-001")
    assert derive_password("seed", "cam-001") != derive_password("seed", "cam-002")
    assert derive_password("seed", "cam-001") != derive_password("other", "cam-001")


def test_password_stays_out_of_repr() -> None:
    assert "secret1" not in repr(CREDS)


@given(st.text(max_size=200))
def test_any_header_is_judged_without_crashing(header: str) -> None:
    assert check(header, "DESCRIBE", CREDS, SECRET, NOW) in set(AuthResult)
