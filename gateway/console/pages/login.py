"""Logging in and out.

The login form is protected by a double-submit token (a random cookie repeated in the
form), since there is no session to bind a token to yet. Failed attempts are limited per
user name and per client address (:mod:`gateway.console.ratelimit`).
"""

from __future__ import annotations

import math
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console import metrics
from gateway.console.context import Console, safe_next
from gateway.console.csrf import tokens_match
from gateway.console.sessions import COOKIE, Login

LOGIN_COOKIE = "ec_login"
LOGIN_PATH = "/console/login"


def _form_page(
    console: Console, request: Request, token: str, status: int = 200,
    error: str = "", **values: object,
) -> Response:  # fmt: skip
    response = console.render(
        request, "login.html", None, status, login_token=token, error=error,
        error_values=values, next=safe_next(request.query_params.get("next")),
        username=values.get("username", ""),
    )  # fmt: skip
    response.set_cookie(
        LOGIN_COOKIE, token, max_age=3600, path=LOGIN_PATH, httponly=True, samesite="strict",
        secure=console.cookie_secure(request),
    )  # fmt: skip
    return response


async def login_form(console: Console, request: Request) -> Response:
    if await console.auth.login(request) is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), 303)
    return _form_page(console, request, secrets.token_urlsafe(24))


async def login_submit(console: Console, request: Request) -> Response:
    form = await request.form()
    token = request.cookies.get(LOGIN_COOKIE, "")
    presented = form.get("login_token")
    if not tokens_match(token, presented if isinstance(presented, str) else None):
        return _form_page(console, request, secrets.token_urlsafe(24), 403, "login.expired")
    username = str(form.get("username", "")).strip()[:64]
    password = str(form.get("password", ""))
    address = request.client.host if request.client else "unknown"
    wait = await console.limiter.retry_after(username, address)
    if wait is not None:
        # Not audited: a flood of blocked attempts would only fill the log; counted instead.
        metrics.LOGINS.labels("blocked").inc()
        minutes = max(1, math.ceil(wait / 60))
        response = _form_page(
            console, request, token, 429, "login.blocked", minutes=minutes, username=username
        )
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    account = await console.accounts.authenticate(username, password)
    if account is None:
        metrics.LOGINS.labels("failed").inc()
        await console.limiter.failed(username, address)
        detail = {"address": address}
        await console.audit(username or "-", "console.login_failed", "console", detail)
        return _form_page(console, request, token, 401, "login.failed", username=username)
    metrics.LOGINS.labels("ok").inc()
    await console.limiter.succeeded(username)
    session_id = await console.sessions.create(account.username)
    await console.audit(account.username, "console.login", "console", {"address": address})
    response = RedirectResponse(safe_next(str(form.get("next", ""))), 303)
    response.set_cookie(
        COOKIE, session_id, max_age=int(console.config.session_ttl_s), path="/", httponly=True,
        samesite="strict", secure=console.cookie_secure(request),
    )  # fmt: skip
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN_PATH)
    return response


async def logout(console: Console, request: Request, login: Login) -> Response:
    await console.sessions.delete(login.session_id)
    await console.audit(login.username, "console.logout", "console", {})
    response = RedirectResponse(LOGIN_PATH, 303)
    response.delete_cookie(COOKIE, path="/")
    return response
