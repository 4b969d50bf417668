"""``python -m gateway accounts …``: the admin page's account work, from a shell."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.console.accounts import AccountStore
from gateway.store.audit import AuditLog
from gateway.store.db import open_database
from tests.support.gateway_process import command, write_config
from tests.support.site import Site

pytestmark = pytest.mark.integration

PASSWORD = "first password 1"
NEW_PASSWORD = "second password 2"


async def _login(db_path: Path, username: str, password: str) -> bool:
    async with open_database(db_path) as db:
        return await AccountStore(db).authenticate(username, password) is not None


async def test_create_scope_disable_enable_and_reset(site: Site, tmp_path: Path) -> None:
    config = tmp_path / "gateway.toml"
    write_config(site, config)
    db = site.root / "gateway.db"
    args = ["--config", str(config)]

    scope = ["--region", "示范区/城关街道"]
    created = command("accounts", "create", *args, "li", "--role", "operator", *scope,
                      "--password-env", "PW", env={"PW": PASSWORD})  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert await _login(db, "li", PASSWORD)
    assert "li\toperator\t示范区/城关街道\tenabled" in command("accounts", "list", *args).stdout

    assert command("accounts", "scope", *args, "li", "--region", "示范区").returncode == 0
    assert command("accounts", "disable", *args, "li").returncode == 0
    assert not await _login(db, "li", PASSWORD)
    assert "li\toperator\t示范区\tdisabled" in command("accounts", "list", *args).stdout
    assert command("accounts", "enable", *args, "li").returncode == 0
    reset = command("accounts", "reset-password", *args, "li", stdin=NEW_PASSWORD + "\n")
    assert reset.returncode == 0, reset.stderr
    assert not await _login(db, "li", PASSWORD)
    assert await _login(db, "li", NEW_PASSWORD)

    async with open_database(db) as handle:
        actions = [e["action"] for e in await AuditLog(handle).recent()]
    done = {"created", "rescoped", "disabled", "enabled", "password_reset"}
    assert {f"console.account_{what}" for what in done} <= set(actions)


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["create", "x", "--role", "boss"], PASSWORD, "role: one of"),
        (["create", "x", "--role", "operator"], "short", "password: at least"),
        (["disable", "nobody"], None, "no account 'nobody'"),
    ],
)
def test_bad_requests_are_refused_with_the_reason(
    site: Site, tmp_path: Path, argv: list[str], stdin: str | None, message: str
) -> None:
    config = tmp_path / "gateway.toml"
    write_config(site, config)

    result = command("accounts", *argv[:1], "--config", str(config), *argv[1:], stdin=stdin)

    assert result.returncode != 0
    assert message in result.stderr
