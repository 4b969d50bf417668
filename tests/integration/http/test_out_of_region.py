"""Every API route and every console route, walked by callers scoped to another village.

Village A (Dongcun) holds an alarm, its dead letter, a camera and an operator account;
the callers — a token, a technician, an operator and an admin — are all scoped to
village B (Nancun). None of them may see anything of village A, nor change it. The
same walk by a caller of village A shows that the fixture data is really reachable
(so the test fails if a route stops applying the region, or stops working at all).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from starlette.routing import Mount, Route

from firmware_protocol.messages import Alert, AlertKind
from gateway.cameras.config import CamerasConfig
from gateway.cameras.scheduler import CameraMonitor
from gateway.cameras.wiring import guarded_camera_routes
from gateway.config import ApiToken, RulesConfig
from gateway.console.camera_views import MonitorViews
from gateway.console.openapi import openapi_spec
from gateway.console.routes import console_routes
from gateway.core.elders import Contact, ElderRecord
from gateway.core.intake import plan_intake
from gateway.dispatch.worker import Dispatcher
from gateway.http.auth import TokenAuth
from gateway.store.intake import apply_plan
from gateway.store.outbox import Outbox
from gateway.store.quarantine import Quarantine
from tests.unit.cameras.fakes import GOOD, FakeProber, RecordingSink, url
from tests.unit.console.factory import (
    DONGCUN,
    NANCUN,
    PASSWORD,
    REGISTRY,
    Site,
    site,
)
from tests.unit.console.pages_helpers import client, csrf, login

pytestmark = pytest.mark.integration

ALERT_ID = "alarm-dongcun-1"
EVENT_ID = f"alert:T001:{ALERT_ID}"
CAMERA_ID = "cam-dongcun"
ACCOUNT = "op-dongcun"
#: Strings that name village A's things; none may appear in an out-of-region answer.
SECRETS = ("T001", ALERT_ID, CAMERA_ID, ACCOUNT, "王秀英", "Dongcun")
TOKEN_B = "nancun-token-0123456789"
TOKEN_A = "dongcun-token-0123456789"
PARAMS = {
    "terminal_id": "T001", "alert_id": ALERT_ID, "sink": "webhook", "event_id": EVENT_ID,
    "camera_id": CAMERA_ID, "username": ACCOUNT, "change": "disable",
}  # fmt: skip
#: Form fields a console POST might read; all aimed at village A.
FORM = {
    "eta_min": "5", "responder": "Li", "role": "operator", "note": "x", "number": "110",
    "username": "intruder", "password": PASSWORD, "region": "/".join(DONGCUN), "language": "zh",
}  # fmt: skip
#: Tables whose rows a refused request must leave exactly as they were.
GUARDED_TABLES = (
    "alerts", "alert_timeline", "outbox", "accounts", "terminal_state", "quarantine", "elders",
    "elder_contacts", "dispatches", "dispatch_attempts", "service_requests",
)  # fmt: skip


@dataclass
class Caller:
    name: str
    http: httpx.AsyncClient
    headers: dict[str, str]
    csrf: str = ""


def _camera_config(tmp_path: Path) -> CamerasConfig:
    return CamerasConfig.model_validate(
        {
            "snapshot_dir": str(tmp_path / "snapshots"),
            "facilities": [
                {"id": "fac-dongcun", "region": list(DONGCUN),
                 "cameras": [{"id": CAMERA_ID, "url": url(CAMERA_ID)}]},
            ],
        }
    )  # fmt: skip


@pytest.fixture
async def scoped(tmp_path: Path) -> AsyncIterator[Site]:
    monitor = CameraMonitor(
        _camera_config(tmp_path), FakeProber({url(CAMERA_ID): GOOD}), RecordingSink(),
        rng=random.Random(1),
    )  # fmt: skip
    await monitor.probe_now(CAMERA_ID)
    async with site(
        tmp_path, cameras=MonitorViews(monitor), extra_routes=guarded_camera_routes(monitor)
    ) as s:
        tokens = [
            ApiToken(name="nancun", token_env="B", region=list(NANCUN)),
            ApiToken(name="dongcun", token_env="A", region=list(DONGCUN)),
        ]
        s.app.state.authenticators.append(TokenAuth(tokens, {"B": TOKEN_B, "A": TOKEN_A}))
        await _village_a(s)
        yield s


async def _village_a(s: Site) -> None:
    """An open alarm with a dead-lettered delivery and its call sequence, a meal request,
    the elder's record, a set-aside message and an operator account, in Dongcun."""
    now = 1_700_000_000.0
    assert s.desk is not None
    contact = Contact("李娜", "relative", "13800000011")
    await s.desk.elders.put(ElderRecord("T001", "Dongcun 1", contacts=(contact,)), "a", now)
    message = Alert("T001", ALERT_ID, AlertKind.EMERGENCY, now - 1)
    meal = Alert("T001", "meal-dongcun-1", AlertKind.MEAL, now - 1)
    plan = plan_intake([message, meal], REGISTRY, RulesConfig(), now)
    await apply_plan(s.db, plan, ["webhook"], now)
    await Dispatcher(s.desk, ["emergency"], 1.0, 1e6, clock=lambda: now).sweep()
    outbox = Outbox(s.db)
    [item] = [i for i in await outbox.claim("webhook", 10, now, 30) if i.event_id == EVENT_ID]
    await outbox.settle_failures([], [(item, "HTTP 400")])
    poison = f'{{"v":1,"alert_id":"{ALERT_ID}-x"}}'.encode()
    await Quarantine(s.db).set_aside("ec/v1/t/T001/alert", poison, "KeyError: 'x'", now)
    await s.console.accounts.create(ACCOUNT, PASSWORD, "operator", DONGCUN)
    for role in ("technician", "operator", "admin"):
        await s.console.accounts.create(f"{role}-nancun", PASSWORD, role, NANCUN)
    await s.console.accounts.create("admin-dongcun", PASSWORD, "admin", DONGCUN)


async def _snapshot(s: Site) -> dict[str, list[tuple[Any, ...]]]:
    found = {}
    for table in GUARDED_TABLES:
        async with s.db.reader.execute(f"SELECT * FROM {table} ORDER BY 1, 2") as cursor:
            found[table] = [tuple(row) async for row in cursor]
    return found


def _fill(path: str) -> str:
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: PARAMS[m.group(1)], path)


def _api_operations(s: Site | None = None) -> list[tuple[str, str]]:
    """Every operation the OpenAPI document describes, plus any API route it does not."""
    spec = openapi_spec()
    found = {
        (method.upper(), _fill(path))
        for path, item in spec["paths"].items()
        for method in ("get", "post", "put", "patch", "delete")
        if method in item and item[method].get("security") != []  # the document itself
    }
    for route in s.app.routes if s is not None else ():
        if isinstance(route, Route) and route.path.startswith("/api/v1/"):
            for method in (route.methods or set()) - {"HEAD"}:
                if route.path != "/api/v1/openapi.json":
                    found.add((method, _fill(route.path)))
    return sorted(found)


def _console_operations(s: Site) -> list[tuple[str, str]]:
    found = []
    for mount in console_routes(s.console):
        if not isinstance(mount, Mount) or mount.path != "/console":
            continue
        for route in mount.routes:
            if isinstance(route, Route) and route.path not in ("/login", "/logout"):
                for method in sorted((route.methods or set()) - {"HEAD"}):
                    found.append((method, "/console" + _fill(route.path)))
    return found


async def _session(s: Site, username: str, password: str) -> Caller:
    http = client(s.app)
    await login(http, username, password)
    token = await csrf(http)
    return Caller(username, http, {"X-CSRF-Token": token}, token)


async def _request(caller: Caller, method: str, path: str) -> httpx.Response:
    if path.startswith("/console/") and method == "POST":
        return await caller.http.post(path, data={**FORM, "csrf": caller.csrf})
    if path.startswith("/console/feed"):
        return await _first_event(caller, path)
    body: dict[str, Any] | None = {} if method == "POST" else None
    return await caller.http.request(method, path, json=body, headers=caller.headers)


async def _first_event(caller: Caller, path: str) -> httpx.Response:
    """The feed is an endless stream (which httpx's ASGI transport would wait out): call
    the app directly, read up to its snapshot event, then hang up."""
    app = caller.http._transport.app  # type: ignore[attr-defined]
    cookies = "; ".join(f"{k}={v}" for k, v in caller.http.cookies.items())
    scope = {
        "type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": f"terminal_id=T001&alert_id={ALERT_ID}".encode(),
        "headers": [(b"host", b"gw.test"), (b"cookie", cookies.encode()),
                    *((k.lower().encode(), v.encode()) for k, v in caller.headers.items())],
        "client": ("127.0.0.1", 1), "server": ("gw.test", 80),
    }  # fmt: skip
    status, body, done = 0, bytearray(), asyncio.Event()

    async def receive() -> dict[str, Any]:
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")
            if (b"snapshot" in body and body.endswith(b"\n\n")) or not message.get("more_body"):
                done.set()

    task = asyncio.create_task(app(scope, receive, send))
    async with asyncio.timeout(10):
        await done.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return httpx.Response(status, content=bytes(body))


def _shown(response: httpx.Response, path: str) -> str:
    """What the answer tells, less the echo of the path asked for (a page's own links)."""
    text = response.text
    for echo in (path, quote(path), quote(path, safe="")):
        text = text.replace(echo, "")
    return text


@pytest.fixture
async def outsiders(scoped: Site) -> AsyncIterator[list[Caller]]:
    callers = [await _session(scoped, f"{role}-nancun", PASSWORD)
               for role in ("technician", "operator", "admin")]  # fmt: skip
    bearer = {"authorization": f"Bearer {TOKEN_B}"}
    callers.append(Caller("nancun-token", client(scoped.app), bearer))
    yield callers
    for caller in callers:
        await caller.http.aclose()


async def test_no_route_shows_or_changes_anything_of_another_village(
    scoped: Site, outsiders: list[Caller]
) -> None:
    operations = [*_api_operations(scoped), *_console_operations(scoped)]
    before = await _snapshot(scoped)
    leaks = []
    for caller in outsiders:
        for method, path in operations:
            response = await _request(caller, method, path)
            assert response.status_code < 500, (caller.name, method, path, response.text[:200])
            shown = _shown(response, path)
            leaks += [(caller.name, method, path, s) for s in SECRETS if s in shown]
    assert leaks == []
    assert await _snapshot(scoped) == before
    assert scoped.acks.updates == []
    assert scoped.mqtt.published == []


async def test_the_walk_covers_every_described_route(scoped: Site) -> None:
    described = {path for _, path in _api_operations()}
    spec_paths = {_fill(p) for p in openapi_spec()["paths"]} - {"/api/v1/openapi.json"}

    assert described == spec_paths
    assert {"/console/admin/accounts", f"/console/alerts/T001/{ALERT_ID}/accept"} <= {
        path for _, path in _console_operations(scoped)
    }


@pytest.mark.parametrize("path", [p for m, p in _api_operations() if m == "GET"])
async def test_a_caller_of_the_same_village_does_see_it(scoped: Site, path: str) -> None:
    async with client(scoped.app) as http:
        response = await http.get(path, headers={"authorization": f"Bearer {TOKEN_A}"})

    assert response.status_code == 200
    if response.headers["content-type"].startswith("application/json"):
        assert any(s in json.dumps(response.json(), ensure_ascii=False) for s in SECRETS)


async def test_an_admin_of_the_same_village_does_see_its_console(scoped: Site) -> None:
    caller = await _session(scoped, "admin-dongcun", PASSWORD)
    try:
        for method, path in _console_operations(scoped):
            if method == "GET":
                response = await _request(caller, method, path)
                assert response.status_code == 200, path
                assert any(s in _shown(response, path) for s in SECRETS), path
    finally:
        await caller.http.aclose()
