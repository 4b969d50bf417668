"""The site's day-to-day commands: ``reload``, ``backup``, ``restore``, ``accounts …``.

Each loads the same config file as ``run`` (and the same environment for secrets), so
an operator names the site once. Errors print one line and exit with the status from
:mod:`gateway.exitcodes`.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from gateway.config import GatewayConfig, load_config
from gateway.console.accounts import AccountStore
from gateway.errors import GatewayError
from gateway.exitcodes import ExitCode, exit_code_for
from gateway.operate import backup as backups
from gateway.operate.apply import apply_registry
from gateway.operate.signals import read_pid
from gateway.store.audit import AuditLog
from gateway.store.db import open_database

ConfigPath = Annotated[Path, typer.Option("--config", "-c", help="The gateway's TOML config.")]
T = TypeVar("T")

accounts_app = typer.Typer(help="Console accounts: create, scope, disable, reset passwords.")


def register(app: typer.Typer) -> None:
    app.command("reload")(reload)
    app.command("backup")(backup)
    app.command("restore")(restore)
    app.add_typer(accounts_app, name="accounts")


def _config(path: Path) -> GatewayConfig:
    try:
        return load_config(path)
    except GatewayError as exc:
        raise _fail(exc) from exc


def _fail(exc: GatewayError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(exit_code_for(exc))


def reload(config: ConfigPath) -> None:
    """Put the registry in force: check it, rewrite the broker's accounts, reload the
    brokers and the running gateway (see README "Operate")."""
    cfg = _config(config)
    try:
        done = apply_registry(cfg)
    except GatewayError as exc:
        raise _fail(exc) from exc
    for line in done:
        typer.echo(line)


def backup(
    config: ConfigPath,
    to: Annotated[Path, typer.Option("--to", help="The backup file to write (replaced whole).")],
) -> None:
    """Copy the database while the gateway runs (consistent, checked, atomic)."""
    cfg = _config(config)
    try:
        copy = backups.backup(cfg.store.path, to)
    except GatewayError as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"backed up {cfg.store.path} to {copy.path}: schema v{copy.schema_version},"
        f" {copy.alerts} alerts, {copy.size_bytes} bytes"
    )


def restore(
    config: ConfigPath,
    from_: Annotated[Path, typer.Option("--from", help="A file written by `backup`.")],
) -> None:
    """Replace the database by a backup. Stop the gateway first."""
    cfg = _config(config)
    pid_file = cfg.reload.pid_file
    if pid_file is not None and pid_file.exists() and _alive(pid_file):
        typer.echo(f"error: the gateway is running ({pid_file}); stop it first", err=True)
        raise typer.Exit(ExitCode.CONFIG)
    try:
        copy = backups.restore(from_, cfg.store.path)
    except GatewayError as exc:
        raise _fail(exc) from exc
    typer.echo(f"restored {from_} into {copy.path}: {copy.alerts} alerts; start the gateway")


def _alive(pid_file: Path) -> bool:
    try:
        pid = read_pid(pid_file)
    except GatewayError:
        return False
    return Path(f"/proc/{pid}").exists()


# --- accounts --------------------------------------------------------------------------


AccountAction = Callable[[AccountStore, AuditLog], Awaitable[T]]


def _with_accounts(cfg: GatewayConfig, action: AccountAction[T]) -> T:
    async def go() -> T:
        async with open_database(cfg.store.path, cfg.store.synchronous) as db:
            store = AccountStore(db, min_password_length=cfg.console.min_password_length)
            return await action(store, AuditLog(db))

    try:
        return asyncio.run(go())
    except GatewayError as exc:
        raise _fail(exc) from exc


def _region(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split("/") if part.strip())


def _password(env: str | None) -> str:
    """From $env, from standard input when it is not a terminal, else asked twice."""
    if env:
        value = os.environ.get(env, "")
        if not value:
            raise typer.BadParameter(f"${env} is empty", param_hint="--password-env")
        return value
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


async def _audited(audit: AuditLog, action: str, username: str, detail: dict[str, object]) -> None:
    await audit.record(f"cli:{getpass.getuser()}", action, username, detail, time.time())


Username = Annotated[str, typer.Argument(help="The account's user name.")]
PasswordEnv = Annotated[
    str | None, typer.Option(help="Read the password from this variable (else stdin/prompt).")
]


@accounts_app.command("list")
def accounts_list(config: ConfigPath) -> None:
    """Every account with its role, region and state."""

    async def run(store: AccountStore, audit: AuditLog) -> None:
        for a in await store.all():
            state = "disabled" if a.disabled else "enabled"
            typer.echo(f"{a.username}\t{a.role}\t{'/'.join(a.region) or '(whole site)'}\t{state}")

    _with_accounts(_config(config), run)


@accounts_app.command("create")
def accounts_create(
    config: ConfigPath,
    username: Username,
    role: Annotated[str, typer.Option(help="operator, technician or admin.")],
    region: Annotated[str, typer.Option(help="district/town/village; empty = whole site.")] = "",
    language: Annotated[str, typer.Option(help="zh, en, or empty for the site default.")] = "",
    password_env: PasswordEnv = None,
) -> None:
    """Add an account."""
    cfg, password, scope = _config(config), _password(password_env), _region(region)

    async def run(store: AccountStore, audit: AuditLog) -> None:
        await store.create(username, password, role, scope, language)
        await _audited(audit, "console.account_created", username,
                       {"role": role, "region": list(scope), "language": language})  # fmt: skip

    _with_accounts(cfg, run)
    typer.echo(f"created {role} {username} ({'/'.join(scope) or 'whole site'})")


def _change(
    config: Path, username: str, what: str, action: Callable[[AccountStore], Awaitable[bool]],
    detail: dict[str, object],
) -> None:  # fmt: skip
    async def run(store: AccountStore, audit: AuditLog) -> bool:
        changed = await action(store)
        if changed:
            await _audited(audit, f"console.account_{what}", username, detail)
        return changed

    if not _with_accounts(_config(config), run):
        typer.echo(f"error: no account {username!r}", err=True)
        raise typer.Exit(ExitCode.CONFIG)
    typer.echo(f"{username}: {what.replace('_', ' ')}")


@accounts_app.command("scope")
def accounts_scope(
    config: ConfigPath,
    username: Username,
    region: Annotated[str, typer.Option(help="district/town/village; empty = whole site.")],
) -> None:
    """Give an account another region (its sessions end)."""
    scope = _region(region)
    _change(config, username, "rescoped", lambda s: s.set_region(username, scope),
            {"region": list(scope)})  # fmt: skip


@accounts_app.command("disable")
def accounts_disable(config: ConfigPath, username: Username) -> None:
    """Stop an account from logging in (its sessions end)."""
    _change(config, username, "disabled", lambda s: s.set_disabled(username, True), {})


@accounts_app.command("enable")
def accounts_enable(config: ConfigPath, username: Username) -> None:
    """Let a disabled account log in again."""
    _change(config, username, "enabled", lambda s: s.set_disabled(username, False), {})


@accounts_app.command("reset-password")
def accounts_reset_password(
    config: ConfigPath, username: Username, password_env: PasswordEnv = None
) -> None:
    """Set a new password (its sessions end)."""
    password = _password(password_env)
    _change(config, username, "password_reset", lambda s: s.set_password(username, password), {})
