"""``/api/v1/openapi.json`` and a readable ``/api/docs`` page (rendered here, no CDN)."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.console.context import Console
from gateway.console.openapi import openapi_spec

METHODS = ("get", "post", "put", "patch", "delete")


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Each path + method as one entry, with its request body schema resolved."""
    schemas = spec["components"]["schemas"]
    found = []
    for path, item in spec["paths"].items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            name = ref.rsplit("/", 1)[-1] if ref else ""
            found.append({
                "method": method.upper(), "path": path, "op": op, "body_name": name,
                "body": json.dumps(schemas.get(name, {}), indent=2, ensure_ascii=False),
            })  # fmt: skip
    return found


async def openapi_json(console: Console, request: Request) -> Response:
    return JSONResponse(openapi_spec())


async def docs_page(console: Console, request: Request) -> Response:
    login = await console.auth.login(request)
    spec = openapi_spec()
    return console.render(
        request, "api_docs.html", login, spec=spec, operations=operations(spec),
        security=spec["components"]["securitySchemes"],
    )  # fmt: skip
