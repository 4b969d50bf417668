"""The HTTP face: ``POST /webhook``, ``POST /control``, ``GET /records``, ``GET /healthz``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from device_sim.command_center.webhook import WebhookInbox

Control = Callable[[object], dict[str, Any]]
Records = Callable[[bool, tuple[float, float] | None], dict[str, Any]]
Health = Callable[[], dict[str, Any]]


def build_app(inbox: WebhookInbox, control: Control, records: Records, health: Health) -> Starlette:
    """The ASGI app; ``control`` raises ``ValueError`` naming a bad key (answered 400)."""

    async def webhook(request: Request) -> JSONResponse:
        status, answer = await inbox.receive(await request.body(), dict(request.headers))
        return JSONResponse(answer, status_code=status)

    async def set_control(request: Request) -> JSONResponse:
        try:
            return JSONResponse(control(json.loads(await request.body())))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError too
            return JSONResponse({"error": str(exc)}, status_code=400)

    async def get_records(request: Request) -> JSONResponse:
        query = request.query_params
        with_events = query.get("events", "").lower() in ("1", "true", "yes")
        window = None
        if "pressed_from" in query or "pressed_to" in query:
            try:
                window = (float(query.get("pressed_from", "0")),
                          float(query.get("pressed_to", "inf")))  # fmt: skip
            except ValueError:
                return JSONResponse({"error": "pressed_from/pressed_to: numbers"}, 400)
        return JSONResponse(records(with_events, window))

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse(health())

    return Starlette(
        routes=[
            Route("/webhook", webhook, methods=["POST"]),
            Route("/control", set_control, methods=["POST"]),
            Route("/records", get_records, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
