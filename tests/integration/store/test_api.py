"""The HTTP API over httpx.ASGITransport: auth, region scope, actions, health and metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import aiomqtt
import httpx
import pytest
from starlette.requests import Request

from firmware_protocol.codec import decode_command
from firmware_protocol.messages import Stage
from gateway.config import ApiToken
from gateway.http.auth import TokenAuth
from gateway.http.health import Health, backlog_check, store_check
from gateway.http.server import build_app
from gateway.operations import Actor, Operations
from gateway.registry import Registry
from gateway.store.alerts import AlertStore
from gateway.store.audit import AuditLog
from gateway.store.db import Database
from gateway.store.intake import StageUpdate
from gateway.store.outbox import Outbox
from gateway.store.quarantine import Quarantine
from tests.integration.store.helpers import T0, FakeAcks, FakeClock, alert, rows, store
from tests.unit.gateway.helpers import terminal

pytestmark = pytest.mark.integration

CC_TOKEN = "cc-token-0123456789abcdef"
TOWN_TOKEN = "town-a-token-0123456789ab"
CC = {"authorization": f"Bearer {CC_TOKEN}"}
TOWN_A = {"authorization": f"Bearer {TOWN_TOKEN}"}
TOWN_B_TOKEN = "town-b-token-0123456789ab"
TOWN_B = {"authorization": f"Bearer {TOWN_B_TOKEN}"}
ADMIN = {"x-test-admin": "1"}
TOWN_B_TECHNICIAN = {"x-test-technician": "TownB"}
TERMINALS = Registry([terminal("T0001", "TownA"), terminal("T0002", "TownB")])
ALERT_A = "/api/v1/alerts/T0001/b1"  # in TownA
ALERT_B = "/api/v1/alerts/T0002/b2"  # in TownB


class Published:
    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []

    async def publish(self, topic: str, payload: bytes, qos: int) -> None:
        self.messages.append((topic, payload))


@dataclass
class Api:
    client: httpx.AsyncClient
    acks: FakeAcks
    published: Published
    db: Database
    clock: FakeClock
    state: dict[str, Any]
    wakes: list[str] = field(default_factory=list)


async def admin(request: Request) -> Actor | None:
    """A console-style authenticator for roles the API tokens do not have."""
    if request.headers.get("x-test-admin"):
        return Actor("admin-li", "admin")
    town = request.headers.get("x-test-technician")
    return Actor("tech-zhao", "technician", ("District", town)) if town else None


@pytest.fixture
async def api(db: Database, clock: FakeClock) -> AsyncIterator[Api]:
    await store(db, alert("b1", "T0001"), alert("b2", "T0002"), now=T0, terminals=TERMINALS)
    acks, published = FakeAcks(), Published()

    async def mqtt() -> aiomqtt.Client:
        return cast(aiomqtt.Client, published)

    wakes: list[str] = []
    ops = Operations(AlertStore(db, ["webhook"]), AuditLog(db), acks, mqtt,
                     lambda: wakes.append("ops"), clock)  # fmt: skip
    tokens = [
        ApiToken(name="command-center", token_env="CC"),
        ApiToken(name="town-a", token_env="TOWN", region=["District", "TownA"]),
        ApiToken(name="town-b", token_env="TOWN_B", region=["District", "TownB"]),
    ]
    secrets = {"CC": CC_TOKEN, "TOWN": TOWN_TOKEN, "TOWN_B": TOWN_B_TOKEN}
    state: dict[str, Any] = {
        "operations": ops, "registry": TERMINALS, "outbox": Outbox(db), "clock": clock,
        "quarantine": Quarantine(db),
        "wake": lambda: wakes.append("api"),
        "authenticators": [TokenAuth(tokens, secrets), admin],
        "health_checks": {"broker": lambda: True},
    }  # fmt: skip
    transport = httpx.ASGITransport(app=build_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        yield Api(client, acks, published, db, clock, state, wakes)


async def stage(api: Api, terminal_id: str = "T0001", alert_id: str = "b1") -> str:
    [row] = await rows(api.db, "SELECT stage FROM alerts WHERE terminal_id = ? AND alert_id = ?",
                       terminal_id, alert_id)  # fmt: skip
    return str(row["stage"])


# --- health and metrics -----------------------------------------------------------------------


async def test_healthz_is_ok_while_every_check_passes(api: Api) -> None:
    response = await api.client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "broker": True}


async def test_healthz_is_degraded_when_a_check_fails(api: Api) -> None:
    api.state["health_checks"]["broker"] = lambda: False

    response = await api.client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "broker": False}


async def test_healthz_shows_details_and_fails_a_check_that_does_not_answer(api: Api) -> None:
    async def backlog() -> Health:
        return Health(True, {"webhook": {"pending": 3, "oldest_s": 1.5}})

    async def hung() -> Health:
        await asyncio.sleep(60)
        return Health(True)

    api.state["health_checks"].update({"outbox": backlog, "store": hung})

    response = await api.client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert (body["broker"], body["outbox"], body["store"]) == (True, True, False)
    assert body["detail"]["outbox"]["webhook"]["pending"] == 3
    assert "no answer" in body["detail"]["store"]["error"]


async def test_healthz_of_a_real_store_reports_the_backlog(api: Api) -> None:
    outbox = Outbox(api.db)
    api.state["health_checks"].update({
        "store": store_check(outbox, Path("gateway.db")),
        "outbox": backlog_check(outbox, ["webhook"], max_age_s=60, clock=lambda: T0 + 120),
    })  # fmt: skip

    body = (await api.client.get("/healthz")).json()

    assert body["store"] is True
    assert body["outbox"] is False  # two alerts waiting since T0, older than 60 s
    assert body["detail"]["outbox"]["webhook"] == {"pending": 2, "oldest_s": 120.0}


async def test_metrics_are_prometheus_text_without_auth(api: Api) -> None:
    response = await api.client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE gateway_rejected_messages_total counter" in response.text
    assert "gateway_outbox_rows" in response.text


# --- authentication and scope -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/alerts"),
        ("GET", ALERT_A),
        ("POST", ALERT_A + "/accept"),
        ("POST", ALERT_A + "/resolve"),
        ("GET", "/api/v1/outbox/dead"),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer wrong-token-0123456789"}])
async def test_requests_without_a_valid_token_get_401(
    api: Api, method: str, path: str, headers: dict[str, str]
) -> None:
    response = await api.client.request(method, path, headers=headers)

    assert response.status_code == 401
    assert api.acks.updates == []
    assert await stage(api) == "received"


async def test_list_shows_only_alerts_inside_the_tokens_region(api: Api) -> None:
    everything = (await api.client.get("/api/v1/alerts", headers=CC)).json()["alerts"]
    town = (await api.client.get("/api/v1/alerts", headers=TOWN_A)).json()["alerts"]

    assert sorted(a["alert_id"] for a in everything) == ["b1", "b2"]
    assert [a["alert_id"] for a in town] == ["b1"]


async def test_alert_outside_the_region_is_404_as_if_absent(api: Api) -> None:
    outside = await api.client.get(ALERT_B, headers=TOWN_A)
    unknown = await api.client.get("/api/v1/alerts/T0001/nope", headers=CC)
    inside = await api.client.get(ALERT_A, headers=TOWN_A)

    assert (outside.status_code, unknown.status_code, inside.status_code) == (404, 404, 200)
    assert [t["action"] for t in inside.json()["timeline"]] == ["pressed", "received"]


async def test_acting_outside_the_region_is_404_and_changes_nothing(api: Api) -> None:
    response = await api.client.post(ALERT_B + "/accept", headers=TOWN_A, json={"eta_s": 60})

    assert response.status_code == 404
    assert api.acks.updates == []
    assert await stage(api, "T0002", "b2") == "received"


# --- actions ---------------------------------------------------------------------------------


async def test_accept_tells_the_terminal_by_and_eta(api: Api) -> None:
    response = await api.client.post(
        ALERT_A + "/accept", headers=TOWN_A, json={"by": "Li Wei", "eta_s": 600, "note": "coming"}
    )

    assert response.status_code == 200
    assert response.json() == {"applied": True, "stage": "accepted"}
    assert api.acks.updates == [
        StageUpdate("T0001", "b1", Stage.ACCEPTED, by="Li Wei", eta_s=600, note="coming")
    ]
    [entry] = await AuditLog(api.db).recent()
    assert (entry["actor"], entry["action"]) == ("town-a", "alert.accepted")
    assert api.wakes == ["ops"]


async def test_accept_without_body_names_the_token_as_responder(api: Api) -> None:
    response = await api.client.post(ALERT_A + "/accept", headers=CC)

    assert response.json() == {"applied": True, "stage": "accepted"}
    assert [(u.stage, u.by, u.eta_s) for u in api.acks.updates] == [
        (Stage.ACCEPTED, "command-center", None)
    ]


async def test_accepting_twice_is_not_applied_again(api: Api) -> None:
    await api.client.post(ALERT_A + "/accept", headers=CC, json={"by": "Li Wei"})

    again = await api.client.post(ALERT_A + "/accept", headers=CC, json={"by": "Wang"})

    assert again.json() == {"applied": False, "stage": "accepted"}
    assert len(api.acks.updates) == 1


@pytest.mark.parametrize(
    "body",
    [
        b'{"eta_s": -1}',
        b'{"eta_s": 86401}',
        b'{"eta_s": "soon"}',
        b'{"by": "' + b"x" * 65 + b'"}',
        b'{"responder": "Li Wei"}',
        b"{not json",
        b"[]",
    ],
    ids=[
        "eta-negative",
        "eta-too-big",
        "eta-text",
        "by-too-long",
        "unknown-field",
        "not-json",
        "array",
    ],
)
async def test_bad_accept_body_is_422_and_changes_nothing(api: Api, body: bytes) -> None:
    response = await api.client.post(
        ALERT_A + "/accept", headers={**CC, "content-type": "application/json"}, content=body
    )

    assert response.status_code == 422
    assert api.acks.updates == []
    assert await stage(api) == "received"


async def test_resolve_closes_the_alert_and_takes_no_eta(api: Api) -> None:
    bad = await api.client.post(ALERT_A + "/resolve", headers=CC, json={"eta_s": 5})
    good = await api.client.post(ALERT_A + "/resolve", headers=CC, json={"note": "false alarm"})

    assert bad.status_code == 422
    assert good.json() == {"applied": True, "stage": "resolved"}
    assert [(u.stage, u.note) for u in api.acks.updates] == [(Stage.RESOLVED, "false alarm")]


async def test_assign_adds_a_timeline_entry(api: Api) -> None:
    response = await api.client.post(
        ALERT_A + "/assign", headers=CC, json={"responder": "Zhang", "role": "doctor"}
    )

    assert response.json() == {"applied": True}
    timeline = (await api.client.get(ALERT_A, headers=CC)).json()["timeline"]
    assert (timeline[-1]["action"], timeline[-1]["note"]) == ("assigned", "doctor: Zhang")


async def test_call_back_publishes_a_command_in_scope_only(api: Api) -> None:
    accepted = await api.client.post(
        "/api/v1/terminals/T0001/call-back", headers=TOWN_A, json={"number": "+8613800000000"}
    )
    outside = await api.client.post("/api/v1/terminals/T0002/call-back", headers=TOWN_A)
    unknown = await api.client.post("/api/v1/terminals/T9999/call-back", headers=CC)

    assert accepted.status_code == 202
    assert (outside.status_code, unknown.status_code) == (404, 404)
    [(topic, payload)] = api.published.messages
    assert topic == "ec/v1/t/T0001/cmd"
    assert decode_command(payload).cmd_id == accepted.json()["cmd_id"]


# --- dead letters ------------------------------------------------------------------------------


async def dead_letter_the_alert(api: Api) -> None:
    outbox = Outbox(api.db)
    items = await outbox.claim("webhook", 10, T0, 30)
    [item] = [i for i in items if i.event_id == "alert:T0001:b1"]
    await outbox.settle_failures([], [(item, "HTTP 400")])


async def test_dead_letters_are_listed_for_integrations(api: Api) -> None:
    await dead_letter_the_alert(api)

    response = await api.client.get("/api/v1/outbox/dead", headers=CC)

    assert response.status_code == 200
    assert [(d["event_id"], d["last_error"]) for d in response.json()["dead"]] == [
        ("alert:T0001:b1", "HTTP 400")
    ]


async def test_retrying_a_dead_letter_needs_admin_or_technician(api: Api) -> None:
    await dead_letter_the_alert(api)
    path = "/api/v1/outbox/dead/webhook/alert:T0001:b1/retry"

    refused = await api.client.post(path, headers=CC)
    retried = await api.client.post(path, headers=ADMIN)
    again = await api.client.post(path, headers=ADMIN)

    assert refused.status_code == 403
    assert retried.json() == {"applied": True}
    assert again.status_code == 404
    assert api.wakes == ["api"]
    assert await Outbox(api.db).dead_letters() == []


async def test_dead_letters_outside_the_callers_region_are_not_listed(api: Api) -> None:
    await dead_letter_the_alert(api)  # T0001 lives in TownA

    by_token = await api.client.get("/api/v1/outbox/dead", headers=TOWN_B)
    by_session = await api.client.get("/api/v1/outbox/dead", headers=TOWN_B_TECHNICIAN)
    inside = await api.client.get("/api/v1/outbox/dead", headers=TOWN_A)

    assert by_token.json() == {"dead": []}
    assert by_session.json() == {"dead": []}
    assert [d["event_id"] for d in inside.json()["dead"]] == ["alert:T0001:b1"]


async def test_retrying_a_dead_letter_outside_the_region_is_404_and_changes_nothing(
    api: Api,
) -> None:
    await dead_letter_the_alert(api)

    response = await api.client.post(
        "/api/v1/outbox/dead/webhook/alert:T0001:b1/retry", headers=TOWN_B_TECHNICIAN
    )

    assert response.status_code == 404
    assert [d["event_id"] for d in await Outbox(api.db).dead_letters()] == ["alert:T0001:b1"]
    assert api.wakes == []


async def test_retrying_a_dead_letter_is_audited_at_the_current_time(api: Api) -> None:
    await dead_letter_the_alert(api)
    api.clock.now = T0 + 500

    await api.client.post("/api/v1/outbox/dead/webhook/alert:T0001:b1/retry", headers=ADMIN)

    [entry] = await AuditLog(api.db).recent()
    assert (entry["actor"], entry["action"], entry["at"]) == ("admin-li", "outbox.retry", T0 + 500)


async def test_bad_limit_parameter_is_a_client_error(api: Api) -> None:
    transport = httpx.ASGITransport(app=build_app(api.state), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
        response = await client.get("/api/v1/alerts?limit=ten", headers=CC)

    assert response.status_code in (400, 422)


async def test_set_aside_messages_are_listed_within_the_callers_region(api: Api) -> None:
    quarantine = Quarantine(api.db)
    await quarantine.set_aside("ec/v1/t/T0001/alert", b'{"v":1,"odd":true}', "KeyError: x", T0)
    await quarantine.set_aside("ec/v1/z/town-b/t/T0002/health", b"\xff", "ValueError: y", T0)

    everything = await api.client.get("/api/v1/quarantine", headers=CC)
    town_b = await api.client.get("/api/v1/quarantine", headers=TOWN_B)

    assert sorted(q["topic"] for q in everything.json()["quarantined"]) == [
        "ec/v1/t/T0001/alert",
        "ec/v1/z/town-b/t/T0002/health",
    ]
    [only_b] = town_b.json()["quarantined"]
    assert (only_b["topic"], only_b["error"], only_b["count"]) == (
        "ec/v1/z/town-b/t/T0002/health", "ValueError: y", 1,
    )  # fmt: skip
    assert only_b["payload"] == "\ufffd"
