"""API tokens and region scopes."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from gateway.config import ApiToken
from gateway.errors import ConfigError
from gateway.http.auth import TokenAuth, in_scope
from gateway.operations import Actor

TOKEN = "cc-token-0123456789abcdef"
TOWN_TOKEN = "town-token-0123456789abcdef"
ENV = {"CC_TOKEN": TOKEN, "TOWN_TOKEN": TOWN_TOKEN}
TOKENS = [
    ApiToken(name="command-center", token_env="CC_TOKEN"),
    ApiToken(name="town-a", token_env="TOWN_TOKEN", region=["D", "TownA"]),
]


def request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("scope", "region", "inside"),
    [
        ((), ("D", "T", "V"), True),
        (("D",), ("D", "T", "V"), True),
        (("D", "T"), ("D", "T", "V"), True),
        (("D", "T", "V"), ("D", "T", "V"), True),
        (("D", "T"), ("D", "U", "V"), False),
        (("E",), ("D", "T", "V"), False),
        (("D", "T", "V"), ("D", "T"), False),
    ],
)
def test_in_scope(scope: tuple[str, ...], region: tuple[str, ...], inside: bool) -> None:
    assert in_scope(scope, region) is inside


async def test_bearer_token_identifies_its_actor_and_scope() -> None:
    auth = TokenAuth(TOKENS, ENV)

    assert await auth(request(f"Bearer {TOKEN}")) == Actor("command-center", "integration", ())
    assert await auth(request(f"bearer {TOWN_TOKEN}")) == Actor(
        "town-a", "integration", ("D", "TownA")
    )


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", f"Basic {TOKEN}", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"],
)
async def test_anything_but_a_known_bearer_token_is_anonymous(header: str | None) -> None:
    assert await TokenAuth(TOKENS, ENV)(request(header)) is None


def test_short_or_missing_token_is_a_config_error_naming_the_token() -> None:
    with pytest.raises(ConfigError, match=r"api\.tokens\[town-a\]\.token_env: \$TOWN_TOKEN"):
        TokenAuth(TOKENS, {"CC_TOKEN": TOKEN, "TOWN_TOKEN": "short"})


def test_config_error_does_not_reveal_the_short_token() -> None:
    with pytest.raises(ConfigError) as caught:
        TokenAuth(TOKENS[:1], {"CC_TOKEN": "tiny-secret"})

    assert "tiny-secret" not in str(caught.value)
