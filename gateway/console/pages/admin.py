"""Accounts (admins only) and each user's language."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console.accounts import AccountError
from gateway.console.context import Console, safe_next
from gateway.console.sessions import Login
from gateway.console.texts import LANGUAGES
from gateway.http.auth import in_scope

ADMIN = frozenset({"admin"})
ACCOUNTS_PATH = "/console/admin/accounts"


def region_options(console: Console, scope: tuple[str, ...]) -> list[str]:
    """Region paths (``a/b/c``) an admin scoped to ``scope`` may give an account."""
    found = {
        terminal.region[:depth]
        for terminal in console.registry.values()
        for depth in (1, 2, 3)
        if in_scope(scope, terminal.region[:depth]) and depth >= len(scope)
    }
    options = sorted("/".join(path) for path in found)
    return ["", *options] if not scope else options


async def accounts_page(
    console: Console, request: Request, login: Login, error: str = "", status: int = 200,
    error_values: dict[str, object] | None = None,
) -> Response:  # fmt: skip
    accounts = [a for a in await console.accounts.all() if in_scope(login.region, a.region)]
    return console.render(
        request, "accounts.html", login, status, accounts=accounts, error=error,
        error_values=error_values or {},
        regions=region_options(console, login.region), roles=("operator", "technician", "admin"),
        languages=LANGUAGES, done=request.query_params.get("done", ""),
    )  # fmt: skip


async def accounts_list(console: Console, request: Request, login: Login) -> Response:
    return await accounts_page(console, request, login)


async def account_create(console: Console, request: Request, login: Login) -> Response:
    form = await request.form()
    username = str(form.get("username", "")).strip()
    role = str(form.get("role", ""))
    region = tuple(part for part in str(form.get("region", "")).split("/") if part)
    language = str(form.get("language", ""))
    password = str(form.get("password", ""))
    if not in_scope(login.region, region):
        return await accounts_page(console, request, login, "accounts.outside_scope", 400)
    try:
        await console.accounts.create(username, password, role, region, language)
    except AccountError as exc:
        return await accounts_page(
            console, request, login, exc.key or str(exc), 400, dict(exc.values)
        )
    await console.audit(
        login.username, "console.account_created", username,
        {"role": role, "region": list(region), "language": language},
    )  # fmt: skip
    return RedirectResponse(f"{ACCOUNTS_PATH}?done=created", 303)


async def account_toggle(console: Console, request: Request, login: Login) -> Response:
    username, change = request.path_params["username"], request.path_params["change"]
    if change not in ("disable", "enable"):
        raise HTTPException(404, "error.not_found")
    disable = change == "disable"
    account = await console.accounts.get(username)
    if account is None or not in_scope(login.region, account.region):
        raise HTTPException(404, "error.not_found")
    if disable and username == login.username:
        return await accounts_page(console, request, login, "accounts.not_yourself", 400)
    await console.accounts.set_disabled(username, disable)
    action = "console.account_disabled" if disable else "console.account_enabled"
    await console.audit(login.username, action, username, {})
    return RedirectResponse(f"{ACCOUNTS_PATH}?done={'disabled' if disable else 'enabled'}", 303)


async def set_language(console: Console, request: Request, login: Login) -> Response:
    form = await request.form()
    language = str(form.get("lang", ""))
    if language not in LANGUAGES:
        raise HTTPException(400, "error.bad_request")
    await console.accounts.set_language(login.username, language)
    await console.audit(login.username, "console.language", login.username, {"lang": language})
    return RedirectResponse(safe_next(str(form.get("next", ""))), 303)
