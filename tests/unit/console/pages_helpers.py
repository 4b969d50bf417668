"""Driving the console over HTTP (ASGI, no browser) like a browser would."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette

TOKEN_RE = re.compile(r'name="(?:login_token|csrf)" value="([^"]+)"')


def client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw.test")


def token(html: str) -> str:
    found = TOKEN_RE.search(html)
    assert found, "no form token on the page"
    return found.group(1)


async def login(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = await http.get("/console/login")
    return await http.post(
        "/console/login",
        data={"username": username, "password": password, "login_token": token(form.text)},
    )


async def csrf(http: httpx.AsyncClient) -> str:
    """The session's CSRF token, as the pages carry it."""
    return token((await http.get("/console/terminals")).text)
