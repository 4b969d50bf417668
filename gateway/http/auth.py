"""Who is calling: API bearer tokens here; console sessions plug in the same way.

Every request handler asks :func:`require` for an :class:`~gateway.operations.Actor`;
the actor's region scopes what it may see and do (district → town → village).
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence

from starlette.exceptions import HTTPException
from starlette.requests import Request

from gateway.config import ApiToken
from gateway.errors import ConfigError
from gateway.operations import Actor

Authenticator = Callable[[Request], Awaitable[Actor | None]]


def in_scope(scope: Sequence[str], region: Sequence[str]) -> bool:
    """True when ``region`` lies inside ``scope`` (an empty scope is the whole site)."""
    return tuple(region[: len(scope)]) == tuple(scope)


class TokenAuth:
    """``Authorization: Bearer <token>`` for systems integrating over the API."""

    def __init__(self, tokens: Sequence[ApiToken], environ: Mapping[str, str] = os.environ):
        self._tokens: list[tuple[bytes, Actor]] = []
        for token in tokens:
            secret = environ.get(token.token_env, "")
            if len(secret) < 16:
                raise ConfigError(
                    f"api.tokens[{token.name}].token_env: ${token.token_env} must hold a"
                    " token of at least 16 characters"
                )
            actor = Actor(token.name, "integration", tuple(token.region))
            self._tokens.append((secret.encode(), actor))

    async def __call__(self, request: Request) -> Actor | None:
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not presented:
            return None
        for secret, actor in self._tokens:
            if hmac.compare_digest(secret, presented.strip().encode()):
                return actor
        return None


async def require(request: Request, roles: frozenset[str] | None = None) -> Actor:
    """The authenticated actor, or 401/403."""
    authenticators: list[Authenticator] = request.app.state.authenticators
    for authenticate in authenticators:
        actor = await authenticate(request)
        if actor is not None:
            if roles is not None and actor.role not in roles:
                raise HTTPException(403, "not allowed for this role")
            return actor
    raise HTTPException(401, "authentication required")
