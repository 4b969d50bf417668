"""RTSP authentication: Digest (RFC 2617, MD5) and Basic, checked as pure functions.

The challenge offers Digest without ``qop`` (as most IP cameras do, and as every
RTSP client implements) and Basic; a Digest answer with ``qop=auth`` is accepted too.
Nonces are stateless: issue time plus an HMAC of it, so any camera of the farm can
check one without remembering it.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
import re
from dataclasses import dataclass, field

REALM = "eldercare-camera"
NONCE_LIFETIME_S = 24 * 3600.0

_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*(?:,|$)')


@dataclass(frozen=True, slots=True)
class Credentials:
    """A camera's login; the password stays out of reprs and logs."""

    username: str
    password: str = field(repr=False)


class AuthResult(enum.Enum):
    """Outcome of checking an ``Authorization`` header."""

    OK = "ok"
    MISSING = "missing"
    INVALID = "invalid"
    STALE = "stale"


def derive_password(seed: str, camera_id: str) -> str:
    """A camera's password, reproducible from the farm seed and the camera id."""
    digest = hashlib.sha256(f"{seed}/{camera_id}".encode()).hexdigest()
    return digest[:12]


def make_nonce(secret: bytes, now: float) -> str:
    """A nonce that proves it was issued by the holder of ``secret`` at ``now``."""
    issued = f"{int(now):x}"
    mac = hmac.new(secret, issued.encode(), hashlib.sha256).hexdigest()[:24]
    return f"{issued}.{mac}"


def nonce_age(secret: bytes, nonce: str, now: float) -> float | None:
    """Seconds since ``nonce`` was issued, or None when it is not one of ours."""
    issued, _, mac = nonce.partition(".")
    if not 0 < len(issued) <= 16:
        return None
    try:
        when = int(issued, 16)
    except ValueError:
        return None
    expected = hmac.new(secret, issued.encode(), hashlib.sha256).hexdigest()[:24]
    if not _same(mac, expected):
        return None
    return now - when


def challenge(nonce: str, *, stale: bool = False, realm: str = REALM) -> list[tuple[str, str]]:
    """``WWW-Authenticate`` headers for a 401: Digest first, then Basic."""
    digest = f'Digest realm="{realm}", nonce="{nonce}", algorithm=MD5'
    if stale:
        digest += ", stale=TRUE"
    return [("WWW-Authenticate", digest), ("WWW-Authenticate", f'Basic realm="{realm}"')]


def parse_params(text: str) -> dict[str, str]:
    """``key=value`` and ``key="quoted"`` pairs of an auth header, keys lowercased."""
    params: dict[str, str] = {}
    for match in _PARAM.finditer(text):
        key, value = match.group(1).lower(), match.group(2)
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(key, value)
    return params


def check(
    header: str | None,
    method: str,
    credentials: Credentials,
    secret: bytes,
    now: float,
    realm: str = REALM,
) -> AuthResult:
    """Whether ``header`` (an ``Authorization`` value) proves ``credentials``."""
    if not header:
        return AuthResult.MISSING
    scheme, _, rest = header.strip().partition(" ")
    if scheme.lower() == "basic":
        return _check_basic(rest.strip(), credentials)
    if scheme.lower() == "digest":
        return _check_digest(parse_params(rest), method, credentials, secret, now, realm)
    return AuthResult.INVALID


def _check_basic(token: str, credentials: Credentials) -> AuthResult:
    try:
        decoded = base64.b64decode(token, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return AuthResult.INVALID
    expected = f"{credentials.username}:{credentials.password}"
    return AuthResult.OK if _same(decoded, expected) else AuthResult.INVALID


def _check_digest(
    params: dict[str, str],
    method: str,
    credentials: Credentials,
    secret: bytes,
    now: float,
    realm: str,
) -> AuthResult:
    needed = ("username", "realm", "nonce", "uri", "response")
    if any(key not in params for key in needed):
        return AuthResult.INVALID
    if params.get("algorithm", "MD5").upper() != "MD5":
        return AuthResult.INVALID
    if not _same(params["username"], credentials.username) or params["realm"] != realm:
        return AuthResult.INVALID
    age = nonce_age(secret, params["nonce"], now)
    if age is None:
        return AuthResult.INVALID
    expected = digest_response(params, method, credentials, realm)
    if expected is None or not _same(params["response"].lower(), expected):
        return AuthResult.INVALID
    return AuthResult.OK if 0 <= age <= NONCE_LIFETIME_S else AuthResult.STALE


def digest_response(
    params: dict[str, str], method: str, credentials: Credentials, realm: str = REALM
) -> str | None:
    """The Digest ``response`` a client knowing ``credentials`` would send.

    ``params`` holds the client's ``nonce`` and ``uri`` (and, with ``qop=auth``, its
    ``nc`` and ``cnonce``); None when the ``qop`` is not supported.
    """
    ha1 = _md5(f"{credentials.username}:{realm}:{credentials.password}")
    ha2 = _md5(f"{method}:{params['uri']}")
    qop = params.get("qop")
    if qop is None:
        return _md5(f"{ha1}:{params['nonce']}:{ha2}")
    if qop != "auth" or "nc" not in params or "cnonce" not in params:
        return None
    return _md5(f"{ha1}:{params['nonce']}:{params['nc']}:{params['cnonce']}:auth:{ha2}")


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
