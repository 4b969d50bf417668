"""Console sessions as an API authenticator.

:class:`SessionAuth` implements the :data:`gateway.http.auth.Authenticator` hook, so the
JSON API under ``/api/v1`` also answers a logged-in console user, within that user's
region. State-changing API calls made with the cookie must send the session's CSRF
token in ``X-CSRF-Token``.
"""

from __future__ import annotations

from starlette.requests import Request

from gateway.console.csrf import check_header
from gateway.console.sessions import COOKIE, Login, SessionStore
from gateway.operations import Actor


class SessionAuth:
    """``Cookie: ec_session=…`` → the account's :class:`~gateway.operations.Actor`."""

    def __init__(self, sessions: SessionStore) -> None:
        self._sessions = sessions

    async def login(self, request: Request) -> Login | None:
        """The request's live session, looked up once per request."""
        cached: Login | None = getattr(request.state, "console_login", None)
        if cached is not None:
            return cached
        login = await self._sessions.lookup(request.cookies.get(COOKIE))
        request.state.console_login = login
        return login

    async def __call__(self, request: Request) -> Actor | None:
        login = await self.login(request)
        if login is None:
            return None
        check_header(request, login.csrf)
        return login.actor
