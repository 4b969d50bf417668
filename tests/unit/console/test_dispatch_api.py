"""The dispatch, elder, service-request and report routes of the JSON API: answers by
token, roles, the caller's region, and bodies that fail validation."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx

from firmware_protocol.messages import AlertKind, Stage
from gateway.console.accounts import create_account
from gateway.core.elders import Contact, ElderRecord
from gateway.dispatch.worker import Dispatcher
from tests.unit.console.factory import (
    ADMIN_PASSWORD,
    FAST_PASSWORDS,
    NANCUN,
    PASSWORD,
    Site,
    press,
    site,
)
from tests.unit.console.pages_helpers import client, csrf, login

RECORD = ElderRecord(
    "T001", address="长安路 8 号", access="钥匙盒 4711",
    contacts=(Contact("李娜", "relative", "13800000011"),
              Contact("王强", "neighbour", "13800000012")),
)  # fmt: skip


async def _ready(s: Site) -> dict[int, str]:
    """T001's elder on record, an emergency pressed and its first call made."""
    assert s.desk is not None
    await s.desk.elders.put(RECORD, "admin", time.time())
    await press(s.db, "T001", "a1")
    await Dispatcher(s.desk, ["emergency"], 1.0, 3600.0).sweep()
    return await _tokens(s)


async def _tokens(s: Site) -> dict[int, str]:
    async with s.db.reader.execute("SELECT body FROM events WHERE type = 'alert.dispatch'") as c:
        bodies = [json.loads(r[0])["data"] async for r in c]
    return {b["attempt"]: b["answer"]["token"] for b in bodies}


async def _signed_in(http: httpx.AsyncClient, user: str = "admin",
                     password: str = ADMIN_PASSWORD) -> dict[str, str]:  # fmt: skip
    await login(http, user, password)
    return {"X-CSRF-Token": await csrf(http)}


async def test_a_responder_answers_with_the_token_alone(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        tokens = await _ready(s)
        declined = await http.post(
            "/api/v1/responders/answer", json={"token": tokens[1], "answer": "decline"}
        )
        assert declined.json() == {"applied": True, "status": "calling"}
        again = await http.post(
            "/api/v1/responders/answer", json={"token": tokens[1], "answer": "accept"}
        )
        assert again.status_code == 409
        tokens = await _tokens(s)
        accepted = await http.post(
            "/api/v1/responders/answer",
            json={"token": tokens[2], "answer": "accept", "eta_s": 300},
        )
        assert accepted.json() == {"applied": True, "status": "accepted"}
        assert [(u.stage, u.by, u.eta_s) for u in s.acks.updates] == [(Stage.ACCEPTED, "王强", 300)]
        unknown = await http.post(
            "/api/v1/responders/answer", json={"token": "x" * 24, "answer": "accept"}
        )
        assert unknown.status_code == 404
        bad = await http.post("/api/v1/responders/answer", json={"token": "short", "answer": "yes"})
        assert bad.status_code == 422


async def test_operators_follow_and_steer_a_sequence_over_the_api(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await _ready(s)
        headers = await _signed_in(http)
        base = "/api/v1/alerts/T001/a1/dispatch"
        view = (await http.get(base)).json()
        assert [a["name"] for a in view["attempts"]] == ["李娜"]
        assert (await http.post(base + "/skip")).status_code == 403  # cookie without CSRF
        assert (await http.post(base + "/skip", headers=headers)).json()["status"] == "calling"
        by_position = await http.post(base + "/reassign", json={"position": 1}, headers=headers)
        assert by_position.status_code == 200
        missing = await http.post(base + "/reassign", json={"position": 9}, headers=headers)
        assert missing.status_code == 422
        someone = {"name": "社区服务站", "phone": "0571-8888", "role": "service_station"}
        assert (
            await http.post(base + "/reassign", json=someone, headers=headers)
        ).status_code == 200
        taken = await http.post(base + "/take-over", headers=headers)
        assert taken.json() == {"applied": True, "status": "taken_over"}
        names = [a["name"] for a in (await http.get(base)).json()["attempts"]]
        assert names == ["李娜", "王强", "李娜", "社区服务站"]


async def test_access_instructions_only_on_request_and_audited(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await _ready(s)
        headers = await _signed_in(http)
        record = (await http.get("/api/v1/elders/T001")).json()
        assert "access" not in record
        assert record["has_access"] is True
        shown = await http.post(
            "/api/v1/elders/T001/access", json={"reason": "alarm a1"}, headers=headers
        )
        assert shown.json() == {"access": "钥匙盒 4711"}
        entries = await s.console.operations.audit.recent()
        assert entries[0]["action"] == "elder.access_shown"
        assert entries[0]["detail"] == {"reason": "alarm a1"}


async def test_admins_replace_a_record_and_bad_fields_are_named(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        headers = await _signed_in(http)
        body: dict[str, Any] = {"address": "新址", "lives_alone": True,
                                "contacts": [{"name": "李娜", "role": "relative",
                                              "phone": "13800000011"}]}  # fmt: skip
        done = await http.put("/api/v1/elders/T002", json=body, headers=headers)
        assert done.json() == {"applied": True, "changed": ["address", "lives_alone", "contacts"]}
        body["contacts"][0]["role"] = "king"
        refused = await http.put("/api/v1/elders/T002", json=body, headers=headers)
        assert refused.status_code == 422
        assert "contacts[1].role" in refused.text
        extra = await http.put("/api/v1/elders/T002", json={"addres": "x"}, headers=headers)
        assert extra.status_code == 422


async def test_operators_may_not_edit_records(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await create_account(s.db, "op", PASSWORD, "operator", (), passwords=FAST_PASSWORDS)
        headers = await _signed_in(http, "op", PASSWORD)
        refused = await http.put("/api/v1/elders/T001", json={}, headers=headers)
        assert refused.status_code == 403


async def test_service_requests_over_the_api(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await press(s.db, "T002", "m1", AlertKind.MEAL)
        await press(s.db, "T001", "e1", AlertKind.EMERGENCY)
        headers = await _signed_in(http)
        listed = (await http.get("/api/v1/service-requests")).json()["requests"]
        assert [(r["alert_id"], r["status"]) for r in listed] == [("m1", "new")]
        base = "/api/v1/alerts/T002/m1/service"
        at = time.time() + 1800
        assert (await http.post(base + "/schedule", json={"at": at}, headers=headers)).json() == {
            "applied": True
        }
        volunteer = {"name": "孙华", "phone": "13500003333", "role": "volunteer"}
        assert (
            await http.post(base + "/assign", json=volunteer, headers=headers)
        ).status_code == 200
        done = await http.post(base + "/complete", json={"note": "送到"}, headers=headers)
        assert done.json() == {"applied": True}
        again = await http.post(base + "/complete", json={}, headers=headers)
        assert again.status_code == 409
        emergency = await http.post(
            "/api/v1/alerts/T001/e1/service/assign", json=volunteer, headers=headers
        )
        assert emergency.status_code == 409  # not a service request


async def test_out_of_region_callers_get_404_everywhere(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await _ready(s)
        await press(s.db, "T002", "m1", AlertKind.MEAL)
        await create_account(s.db, "nan", PASSWORD, "admin", NANCUN, passwords=FAST_PASSWORDS)
        headers = await _signed_in(http, "nan", PASSWORD)
        calls = [
            ("GET", "/api/v1/alerts/T001/a1/dispatch", None),
            ("POST", "/api/v1/alerts/T001/a1/dispatch/skip", None),
            ("POST", "/api/v1/alerts/T001/a1/dispatch/take-over", None),
            ("POST", "/api/v1/alerts/T001/a1/dispatch/reassign", {"position": 1}),
            ("GET", "/api/v1/elders/T001", None),
            ("PUT", "/api/v1/elders/T001", {}),
            ("POST", "/api/v1/elders/T001/access", {"reason": "x"}),
            ("POST", "/api/v1/alerts/T002/m1/service/schedule", {}),
            ("POST", "/api/v1/alerts/T002/m1/service/assign",
             {"name": "x", "phone": "110", "role": "volunteer"}),
            ("POST", "/api/v1/alerts/T002/m1/service/complete", {}),
            ("GET", "/api/v1/reports?region=Binjiang/Changan", None),
        ]  # fmt: skip
        for method, path, body in calls:
            response = await http.request(method, path, json=body, headers=headers)
            assert response.status_code == 404, (method, path, response.status_code)
        assert (await http.get("/api/v1/service-requests")).json() == {"requests": []}
        mine = (await http.get("/api/v1/reports")).json()
        assert mine["scope"] == list(NANCUN)
