"""Everything the console's pages share: stores, words, templates, and the page guards.

Build one with :func:`open_console` (it creates the tables and the first admin), then
mount :func:`gateway.console.routes.console_routes` and append :attr:`Console.auth` to
``app.state.authenticators``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from gateway.console import filters
from gateway.console.accounts import AccountStore, Passwords, bootstrap_admin
from gateway.console.auth import SessionAuth
from gateway.console.camera_views import CameraViews
from gateway.console.config import ConsoleConfig
from gateway.console.csrf import check_form
from gateway.console.escalator import Escalator
from gateway.console.ratelimit import LoginLimiter
from gateway.console.sessions import Login, SessionStore
from gateway.console.texts import LANGUAGES, load_translations
from gateway.dispatch.config import DispatchConfig
from gateway.dispatch.desk import DispatchDesk
from gateway.operations import Operations
from gateway.registry import Terminal
from gateway.store.db import Database

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
#: Roles that may act on alarms from the console; technicians only look.
ACTING = frozenset({"operator", "admin"})
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self';"
        " connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self';"
        " frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
#: Keys the page scripts need (kinds, stages, feed labels).
SCRIPT_KEYS = ("kind.", "stage.", "escalation.", "feed.", "dispatch.status.", "service.")

Handler = Callable[["Console", Request, Login], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


class Console:
    """The console's dependencies; see the module docstring for how to wire it."""

    def __init__(
        self, *, db: Database, registry: Mapping[str, Terminal], operations: Operations,
        config: ConsoleConfig, site_name: str = "", default_language: str = "zh",
        cameras: CameraViews | None = None, clock: Callable[[], float] = time.time,
        passwords: Passwords | None = None, dispatch: DispatchDesk | None = None,
        dispatch_config: DispatchConfig | None = None, sinks: Sequence[str] = (),
        on_new_events: Callable[[], None] = lambda: None,
    ) -> None:  # fmt: skip
        self.db = db
        self.dispatch = dispatch
        self.dispatch_config = dispatch_config or DispatchConfig()
        self.service_kinds = frozenset(self.dispatch_config.service_kinds)
        self.sinks = list(sinks)
        self.on_new_events = on_new_events
        self.registry = registry
        self.operations = operations
        self.config = config
        self.site_name = site_name
        self.default_language = default_language if default_language in LANGUAGES else "zh"
        self.cameras = cameras
        self.clock = clock
        self.rules = config.escalation_rules()
        self.accounts = AccountStore(db, passwords, clock, config.min_password_length)
        self.sessions = SessionStore(db, config.session_ttl_s, clock)
        self.limiter = LoginLimiter(
            db, config.login_window_s, config.login_max_failures_per_user,
            config.login_max_failures_per_ip, clock,
        )  # fmt: skip
        self.auth = SessionAuth(self.sessions)
        self.texts = load_translations()
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        )  # fmt: skip
        self.env.filters.update(filters.FILTERS)

    def escalator(self) -> Escalator:
        """The component that raises escalation levels (run it in the TaskGroup)."""
        return Escalator(
            self.db, self.rules, self.clock, self.config.escalation_interval_s,
            sinks=self.sinks, on_new_events=self.on_new_events, exclude_kinds=self.service_kinds,
        )  # fmt: skip

    def desk(self) -> DispatchDesk:
        """The dispatch desk; pages that need it are only mounted when there is one."""
        if self.dispatch is None:
            raise HTTPException(404, "error.not_found")
        return self.dispatch

    async def audit(self, actor: str, action: str, target: str, detail: dict[str, Any]) -> None:
        await self.operations.audit.record(actor, action, target, detail, self.clock())

    def language(self, login: Login | None, request: Request | None = None) -> str:
        if login is not None and login.language in LANGUAGES:
            return login.language
        asked = request.query_params.get("lang", "") if request is not None else ""
        return asked if asked in LANGUAGES else self.default_language

    def cookie_secure(self, request: Request) -> bool:
        mode = self.config.cookie_secure
        return mode == "always" or (mode == "auto" and request.url.scheme == "https")

    def render(
        self, request: Request, template: str, login: Login | None,
        status: int = 200, **context: Any,
    ) -> HTMLResponse:  # fmt: skip
        """A page with the shared header context and security headers."""
        language = self.language(login, request)
        html = self.env.get_template(template).render(
            t=self.texts.for_language(language), lang=language, login=login,
            site_name=self.site_name, path=request.url.path,
            script_texts=_script_json(self.texts.subset(language, SCRIPT_KEYS)),
            **context,
        )  # fmt: skip
        return HTMLResponse(html, status, headers=SECURITY_HEADERS)

    def error(self, request: Request, login: Login | None, status: int, detail: str) -> Response:
        return self.render(request, "error.html", login, status, status_code=status, detail=detail)

    def page(self, handler: Handler, roles: frozenset[str] | None = None) -> Endpoint:
        """An endpoint for logged-in users (with one of ``roles``, if given).

        Anonymous visitors are sent to the login page; an ``HTTPException`` raised by
        the handler becomes an error page whose detail is a message key.
        """

        async def endpoint(request: Request) -> Response:
            login = await self.auth.login(request)
            if login is None:
                return to_login(request)
            if roles is not None and login.role not in roles:
                return self.error(request, login, 403, "error.forbidden")
            try:
                return await handler(self, request, login)
            except HTTPException as exc:
                return self.error(request, login, exc.status_code, str(exc.detail))

        return endpoint

    def action(self, handler: Handler, roles: frozenset[str] | None = ACTING) -> Endpoint:
        """A form POST: like :meth:`page`, plus the session's CSRF token is required."""

        async def checked(console: Console, request: Request, login: Login) -> Response:
            await check_form(request, login.csrf)
            return await handler(console, request, login)

        return self.page(checked, roles)


def _script_json(value: Any) -> str:
    """JSON safe to place inside a ``<script>`` element."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c")


def to_login(request: Request) -> RedirectResponse:
    """Send an anonymous visitor to the login page, to come back afterwards."""
    target = request.url.path if request.method == "GET" else "/console/"
    return RedirectResponse(f"/console/login?next={quote(target)}", 303)


def safe_next(target: str | None) -> str:
    """Only console paths are followed after login (no open redirect)."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/"


async def open_console(
    db: Database, registry: Mapping[str, Terminal], operations: Operations,
    config: ConsoleConfig, *, site_name: str = "", default_language: str = "zh",
    cameras: CameraViews | None = None, environ: Mapping[str, str] = os.environ,
    clock: Callable[[], float] = time.time, passwords: Passwords | None = None,
    dispatch: DispatchDesk | None = None, dispatch_config: DispatchConfig | None = None,
    sinks: Sequence[str] = (), on_new_events: Callable[[], None] = lambda: None,
) -> Console:  # fmt: skip
    """The console, and its first admin if no account exists yet."""
    console = Console(
        db=db, registry=registry, operations=operations, config=config, site_name=site_name,
        default_language=default_language, cameras=cameras, clock=clock, passwords=passwords,
        dispatch=dispatch, dispatch_config=dispatch_config, sinks=sinks,
        on_new_events=on_new_events,
    )  # fmt: skip
    await bootstrap_admin(
        console.accounts, config.admin_username, config.admin_password_env, environ
    )
    return console
