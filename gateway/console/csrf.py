"""CSRF protection: a synchronizer token bound to the session.

Every console form carries the session's token in a hidden ``csrf`` field; JSON requests
authenticated by the session cookie send it in the ``X-CSRF-Token`` header. Requests
with an API bearer token carry no ambient credential and need neither.
"""

from __future__ import annotations

import hmac

from starlette.exceptions import HTTPException
from starlette.requests import Request

FIELD = "csrf"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def tokens_match(expected: str, presented: str | None) -> bool:
    """Constant-time comparison; a missing or empty token never matches."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())


async def check_form(request: Request, expected: str) -> None:
    """403 (detail: the message key ``error.csrf``) unless the form's ``csrf`` field matches."""
    form = await request.form()
    presented = form.get(FIELD)
    if not tokens_match(expected, presented if isinstance(presented, str) else None):
        raise HTTPException(403, "error.csrf")


def check_header(request: Request, expected: str) -> None:
    """403 for an unsafe method whose ``X-CSRF-Token`` header does not match."""
    if request.method in SAFE_METHODS:
        return
    if not tokens_match(expected, request.headers.get(HEADER)):
        raise HTTPException(403, "CSRF token missing or wrong")
