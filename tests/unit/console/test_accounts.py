"""Accounts: argon2 hashing, creation rules, the first admin."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from gateway.console.accounts import (
    AccountError,
    AccountStore,
    Passwords,
    UsernameTaken,
    bootstrap_admin,
    create_account,
)
from gateway.errors import ConfigError
from gateway.store.db import Database
from tests.unit.console.factory import DONGCUN, FAST_PASSWORDS


async def test_hash_verifies_only_the_right_password() -> None:
    stored = await FAST_PASSWORDS.hash("a long password")
    assert stored.startswith("$argon2id$")
    assert await FAST_PASSWORDS.verify(stored, "a long password") == (True, None)
    assert await FAST_PASSWORDS.verify(stored, "a long passworD") == (False, None)
    assert await FAST_PASSWORDS.verify("not a hash", "a long password") == (False, None)


async def test_unknown_user_costs_a_verification_and_fails() -> None:
    assert await FAST_PASSWORDS.verify(None, "anything at all") == (False, None)


async def test_outdated_hash_is_replaced_on_login(db: Database) -> None:
    weak = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    await create_account(db, "wang", "a long password", "operator", passwords=weak)
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    accounts = AccountStore(db, stronger)
    assert await accounts.authenticate("wang", "a long password") is not None
    async with db.reader.execute("SELECT password_hash FROM accounts") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    assert "t=2" in row[0]


async def test_create_and_authenticate(db: Database) -> None:
    accounts = AccountStore(db, FAST_PASSWORDS)
    created = await accounts.create("li.na", "operator password", "operator", DONGCUN, "zh")
    assert created.region == DONGCUN
    found = await accounts.authenticate("li.na", "operator password")
    assert found is not None
    assert found.role == "operator"
    assert found.language == "zh"
    assert await accounts.authenticate("li.na", "wrong password") is None
    assert await accounts.authenticate("nobody", "operator password") is None


async def test_disabled_account_cannot_log_in(db: Database) -> None:
    accounts = AccountStore(db, FAST_PASSWORDS)
    await accounts.create("zhao", "operator password", "technician")
    assert await accounts.set_disabled("zhao", True)
    assert await accounts.authenticate("zhao", "operator password") is None
    assert await accounts.set_disabled("zhao", False)
    assert await accounts.authenticate("zhao", "operator password") is not None
    assert not await accounts.set_disabled("nobody", True)


@pytest.mark.parametrize(
    ("username", "password", "role", "region", "key"),
    [
        ("bad name", "long enough pw", "operator", (), "accounts.bad_username"),
        ("ok", "short", "operator", (), "accounts.bad_password"),
        ("ok", "long enough pw", "root", (), "accounts.bad_role"),
        ("ok", "long enough pw", "operator", ("a", "b", "c", "d"), "accounts.bad_region"),
        ("ok", "long enough pw", "operator", ("a", ""), "accounts.bad_region"),
    ],
)
async def test_invalid_accounts_are_refused(
    db: Database, username: str, password: str, role: str, region: tuple[str, ...], key: str
) -> None:
    with pytest.raises(AccountError) as caught:
        await AccountStore(db, FAST_PASSWORDS).create(username, password, role, region)
    assert caught.value.key == key


async def test_user_names_are_unique(db: Database) -> None:
    accounts = AccountStore(db, FAST_PASSWORDS)
    await accounts.create("wang", "a long password", "operator")
    with pytest.raises(UsernameTaken):
        await accounts.create("wang", "another password", "admin")


async def test_first_admin_comes_from_the_environment(db: Database) -> None:
    accounts = AccountStore(db, FAST_PASSWORDS)
    env = {"ADMIN_PW": "the admin password"}
    assert await bootstrap_admin(accounts, "root", "ADMIN_PW", env)
    admin = await accounts.authenticate("root", "the admin password")
    assert admin is not None
    assert admin.role == "admin"
    assert admin.region == ()
    assert not await bootstrap_admin(accounts, "root", "ADMIN_PW", env)  # only once


async def test_no_account_and_no_password_is_a_config_error(db: Database) -> None:
    with pytest.raises(ConfigError, match=r"console.admin_password_env.*\$ADMIN_PW"):
        await bootstrap_admin(AccountStore(db, FAST_PASSWORDS), "root", "ADMIN_PW", {})


async def test_existing_accounts_need_no_password(db: Database) -> None:
    await create_account(db, "wang", "a long password", "admin", passwords=FAST_PASSWORDS)
    assert not await bootstrap_admin(AccountStore(db, FAST_PASSWORDS), "root", "ADMIN_PW", {})
