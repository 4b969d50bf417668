"""Signed webhooks, event bodies and a tiny gateway API for the command-center tests."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from standardwebhooks import Webhook
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

SECRET = "whsec_" + base64.b64encode(b"elder-care-test-secret-0123456789").decode()
TOKEN = "gw-api-token"


def event(
    event_id: str = "alert:t-01:b1-0001",
    event_type: str = "alert",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An event body as the gateway forwards it."""
    return {
        "event_id": event_id,
        "type": event_type,
        "occurred_at": time.time(),
        "source": "gateway-test",
        "region": ["district-1", "street-2"],
        "data": data
        if data is not None
        else {
            "terminal_id": "t-01",
            "alert_id": "b1-0001",
            "kind": "emergency",
            "pressed_at": time.time() - 0.25,
        },
    }


def signed(
    body: dict[str, Any], webhook_id: str, secret: str = SECRET
) -> tuple[bytes, dict[str, str]]:
    """The body bytes and Standard Webhooks headers for it."""
    raw = json.dumps(body)
    now = datetime.now(tz=UTC)
    signature = Webhook(secret).sign(webhook_id, now, raw)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return raw.encode(), headers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL; stops it on exit."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    async with asyncio.TaskGroup() as tg:
        tg.create_task(server.serve(sockets=[sock]))
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


@dataclass
class FakeGatewayApi:
    """Records accept/resolve calls; the first ``fail_first`` calls get a 503."""

    fail_first: int = 0
    calls: list[tuple[str, str, str, dict[str, Any], str]] = field(default_factory=list)
    attempts: int = 0
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def app(self) -> Starlette:
        """The ASGI app."""

        async def act(request: Request) -> JSONResponse:
            self.attempts += 1
            if self.attempts <= self.fail_first:
                return JSONResponse({"error": "busy"}, status_code=503)
            params = request.path_params
            self.calls.append(
                (
                    params["terminal_id"],
                    params["alert_id"],
                    params["action"],
                    json.loads(await request.body()),
                    request.headers.get("authorization", ""),
                )
            )
            self._changed.set()
            self._changed = asyncio.Event()
            return JSONResponse({"ok": True})

        path = "/api/v1/alerts/{terminal_id}/{alert_id}/{action}"
        return Starlette(routes=[Route(path, act, methods=["POST"])])

    async def wait_calls(self, count: int) -> None:
        """Return once ``count`` calls succeeded."""
        while len(self.calls) < count:
            await self._changed.wait()
