"""The synchronizer-token helper."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.console.csrf import check_form, check_header, tokens_match

TOKEN = "s3cr3t-token-value"


@pytest.mark.parametrize(
    ("expected", "presented", "ok"),
    [(TOKEN, TOKEN, True), (TOKEN, TOKEN + "x", False), (TOKEN, "", False),
     (TOKEN, None, False), ("", "", False), ("", None, False)],
)  # fmt: skip
def test_tokens_match(expected: str, presented: str | None, ok: bool) -> None:
    assert tokens_match(expected, presented) is ok


async def _echo(request: Request) -> PlainTextResponse:
    await check_form(request, TOKEN)
    check_header(request, TOKEN) if request.headers.get("x-check-header") else None
    return PlainTextResponse("ok")


@pytest.fixture
def client() -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/", _echo, methods=["POST"])])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_form_token_is_required(client: httpx.AsyncClient) -> None:
    async with client:
        assert (await client.post("/", data={"csrf": TOKEN})).status_code == 200
        assert (await client.post("/", data={"csrf": "wrong"})).status_code == 403
        assert (await client.post("/", data={})).status_code == 403


async def test_header_token_is_required_for_unsafe_methods(client: httpx.AsyncClient) -> None:
    async with client:
        both = {"x-check-header": "1", "x-csrf-token": TOKEN}
        assert (await client.post("/", data={"csrf": TOKEN}, headers=both)).status_code == 200
        missing = {"x-check-header": "1"}
        assert (await client.post("/", data={"csrf": TOKEN}, headers=missing)).status_code == 403
