"""The API description covers every API route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from starlette.routing import Route

from gateway.console.openapi import openapi_spec
from gateway.console.pages.apidocs import operations
from gateway.http.api import api_routes


def test_every_api_route_is_described() -> None:
    paths = openapi_spec()["paths"]
    for route in api_routes():
        assert isinstance(route, Route)
        assert route.path in paths, route.path
        for method in route.methods or ():
            if method != "HEAD":
                assert method.lower() in paths[route.path], (method, route.path)


def test_camera_routes_are_described() -> None:
    paths = openapi_spec()["paths"]
    for path in ("/api/v1/cameras", "/api/v1/cameras/{camera_id}/history",
                 "/api/v1/cameras/{camera_id}/snapshot.jpg"):  # fmt: skip
        assert "get" in paths[path]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_references_resolve_and_document_is_json() -> None:
    spec = json.loads(json.dumps(openapi_spec()))
    refs = set(_refs(spec))
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[-1] in spec["components"]["schemas"], ref
    assert set(spec["components"]["securitySchemes"]) == {"bearerAuth", "cookieAuth"}


def test_request_bodies_come_from_the_api_models() -> None:
    schemas = openapi_spec()["components"]["schemas"]
    eta = schemas["AcceptBody"]["properties"]["eta_s"]["anyOf"]
    assert {"type": "integer", "minimum": 0, "maximum": 86_400} in eta
    assert schemas["AssignBody"]["required"] == ["responder"]


def test_docs_page_lists_each_operation() -> None:
    listed = {(op["method"], op["path"]) for op in operations(openapi_spec())}
    assert ("POST", "/api/v1/alerts/{terminal_id}/{alert_id}/accept") in listed
    accept = next(op for op in operations(openapi_spec()) if op["path"].endswith("/accept"))
    assert accept["body_name"] == "AcceptBody"
    assert '"eta_s"' in accept["body"]
