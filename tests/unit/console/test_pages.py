"""The console's pages over HTTP: login, CSRF, roles, scope, actions, audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from firmware_protocol.messages import Stage, TerminalState
from firmware_protocol.topics import Channel, topic
from gateway.console.accounts import create_account
from gateway.console.config import ConsoleConfig
from tests.unit.console.factory import (
    ADMIN_PASSWORD,
    DONGCUN,
    FAST_PASSWORDS,
    PASSWORD,
    Site,
    press,
    site,
    status,
)
from tests.unit.console.pages_helpers import client, csrf, login, token

ALERT = "/console/alerts/T001/a1"


async def _audit(s: Site) -> list[tuple[str, str]]:
    return [(e["actor"], e["action"]) for e in reversed(await s.console.operations.audit.recent())]


async def _account(s: Site, name: str, role: str, region: tuple[str, ...] = ()) -> None:
    await create_account(s.db, name, PASSWORD, role, region, passwords=FAST_PASSWORDS)


async def test_anonymous_visitors_are_sent_to_login(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        response = await http.get("/console/")
        assert response.status_code == 303
        assert response.headers["location"] == "/console/login?next=/console/"
        assert (await http.get("/console/feed")).status_code == 401
        assert (await http.get("/api/v1/alerts")).status_code == 401


async def test_login_sets_a_strict_http_only_cookie(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        response = await login(http, "admin", ADMIN_PASSWORD)
        assert response.status_code == 303
        assert response.headers["location"] == "/console/"
        cookie = next(c for c in response.headers.get_list("set-cookie") if "ec_session" in c)
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Secure" not in cookie
        page = await http.get("/console/")
        assert page.status_code == 200
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert ("admin", "console.login") in await _audit(s)


async def test_secure_cookie_when_configured(tmp_path: Path) -> None:
    async with site(tmp_path, ConsoleConfig(cookie_secure="always")) as s, client(s.app) as http:
        response = await login(http, "admin", ADMIN_PASSWORD)
        assert any("Secure" in c for c in response.headers.get_list("set-cookie"))


async def test_failed_logins_then_429(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        for _ in range(5):
            response = await login(http, "admin", "wrong password")
            assert response.status_code == 401
            assert "Wrong user name or password." in response.text
        blocked = await login(http, "admin", ADMIN_PASSWORD)
        assert blocked.status_code == 429
        assert int(blocked.headers["retry-after"]) > 0
        assert "Too many failed sign-ins" in blocked.text
        assert (await _audit(s)).count(("admin", "console.login_failed")) == 5


async def test_login_form_needs_its_token(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        response = await http.post(
            "/console/login", data={"username": "admin", "password": ADMIN_PASSWORD}
        )
        assert response.status_code == 403


async def test_logout_needs_csrf_and_ends_the_session(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await login(http, "admin", ADMIN_PASSWORD)
        assert (await http.post("/console/logout", data={})).status_code == 403
        response = await http.post("/console/logout", data={"csrf": await csrf(http)})
        assert response.headers["location"] == "/console/login"
        assert (await http.get("/console/")).status_code == 303
        assert ("admin", "console.logout") in await _audit(s)


async def test_accept_from_the_alarm_page(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await press(s.db, "T001", "a1")
        await login(http, "admin", ADMIN_PASSWORD)
        page = await http.get(ALERT)
        assert page.status_code == 200
        assert "王秀英" in page.text
        assert "13800000001" in page.text
        form = {"responder": "Li Wei", "eta_min": "10"}
        assert (await http.post(ALERT + "/accept", data=form)).status_code == 403  # no token
        response = await http.post(ALERT + "/accept", data={**form, "csrf": token(page.text)})
        assert response.headers["location"] == ALERT + "?msg=accepted"
        [ack] = s.acks.updates
        assert (ack.stage, ack.by, ack.eta_s) == (Stage.ACCEPTED, "Li Wei", 600)
        assert ("admin", "alert.accepted") in await _audit(s)


async def test_assign_call_back_and_resolve(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await press(s.db, "T001", "a1")
        await login(http, "admin", ADMIN_PASSWORD)
        tok = await csrf(http)
        assign = {"responder": "Dr Li", "role": "doctor", "csrf": tok}
        assert (await http.post(ALERT + "/assign", data=assign)).status_code == 303
        bad = {"responder": "x", "role": "king", "csrf": tok}
        assert "msg=invalid" in (await http.post(ALERT + "/assign", data=bad)).headers["location"]
        await http.post(ALERT + "/call-back", data={"number": "110", "csrf": tok})
        assert [sent for sent, _ in s.mqtt.published] == [topic("T001", Channel.CMD)]
        await http.post(ALERT + "/resolve", data={"note": "all fine", "csrf": tok})
        assert [u.stage for u in s.acks.updates] == [Stage.RESOLVED]
        page = (await http.get(ALERT)).text
        assert "Doctor: Dr Li" in page
        assert "Call-back" in page
        assert "all fine" in page
        assert 'id="resolve-form"' not in page  # nothing left to do


async def test_technicians_only_look(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await press(s.db, "T001", "a1")
        await _account(s, "tech", "technician")
        await login(http, "tech", PASSWORD)
        page = await http.get(ALERT)
        assert page.status_code == 200
        assert 'id="accept-form"' not in page.text
        response = await http.post(ALERT + "/accept", data={"csrf": token(page.text)})
        assert response.status_code == 403
        assert s.acks.updates == []


async def test_region_scope_in_pages_and_api(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await press(s.db, "T001", "mine")
        await press(s.db, "T003", "theirs")
        await _account(s, "dongcun", "operator", DONGCUN)
        await login(http, "dongcun", PASSWORD)
        assert (await http.get("/console/alerts/T003/theirs")).status_code == 404
        alerts = (await http.get("/api/v1/alerts")).json()["alerts"]
        assert [a["alert_id"] for a in alerts] == ["mine"]
        tok = await csrf(http)
        outside = await http.post("/console/alerts/T003/theirs/accept", data={"csrf": tok})
        assert outside.status_code == 404
        api = "/api/v1/alerts/T001/mine/accept"
        assert (await http.post(api, json={"by": "Li"})).status_code == 403  # cookie, no header
        accepted = await http.post(api, json={"by": "Li"}, headers={"X-CSRF-Token": tok})
        assert accepted.json() == {"applied": True, "stage": "accepted"}


async def test_admin_manages_accounts(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http, client(s.app) as other:
        await login(http, "admin", ADMIN_PASSWORD)
        tok = await csrf(http)
        new = {"username": "wang", "password": PASSWORD, "role": "operator",
               "region": "/".join(DONGCUN), "language": "zh", "csrf": tok}  # fmt: skip
        created = await http.post("/console/admin/accounts", data=new)
        assert created.headers["location"] == "/console/admin/accounts?done=created"
        again = await http.post("/console/admin/accounts", data=new)
        assert again.status_code == 400
        assert "That user name is taken." in again.text
        await login(other, "wang", PASSWORD)
        assert (await other.get("/console/admin/accounts")).status_code == 403
        assert "报警" in (await other.get("/console/")).text  # the account's language
        await http.post("/console/admin/accounts/wang/disable", data={"csrf": tok})
        assert (await other.get("/console/")).status_code == 303  # its session ended
        actions = await _audit(s)
        assert ("admin", "console.account_created") in actions
        assert ("admin", "console.account_disabled") in actions


async def test_language_switch(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await login(http, "admin", ADMIN_PASSWORD)
        assert ">Alarms<" in (await http.get("/console/")).text
        tok = await csrf(http)
        await http.post("/console/language", data={"lang": "zh", "next": "/console/", "csrf": tok})
        assert ">报警<" in (await http.get("/console/")).text


async def test_terminals_page(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await status(s.db, "T001", TerminalState.ONLINE, 100.0)
        async with s.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO terminal_state (terminal_id, last_seen, online, offline_at,"
                " selftest_missed) VALUES ('T003', 50, 0, 60, 1)"
            )
        await login(http, "admin", ADMIN_PASSWORD)
        page = (await http.get("/console/terminals")).text
        assert 'id="count-online">1<' in page
        assert 'id="count-offline">1<' in page
        assert "张建国" in page


class FakeCameras:
    def __init__(self, views: list[dict[str, Any]]) -> None:
        self._views = views

    def views(self) -> list[dict[str, Any]]:
        return self._views

    def history(self, camera_id: str) -> list[dict[str, Any]] | None:
        return [{"at": 1.0, "state": "ok", "faults": [], "measures": {"mean_luma": 120.5}}]


async def test_camera_wall_is_scoped_and_filtered(tmp_path: Path) -> None:
    views: list[dict[str, Any]] = [
        {"id": "c1", "name": "Gate", "region": list(DONGCUN), "state": "faulty",
         "faults": [{"kind": "black"}]},
        {"id": "c2", "name": "Hall", "region": ["Binjiang", "Puyan", "Nancun"], "state": "ok"},
    ]  # fmt: skip
    async with site(tmp_path, cameras=FakeCameras(views)) as s, client(s.app) as http:
        await _account(s, "dongcun", "operator", DONGCUN)
        await login(http, "admin", ADMIN_PASSWORD)
        wall = (await http.get("/console/cameras")).text
        assert 'data-camera="c1"' in wall
        assert 'data-camera="c2"' in wall
        only_black = (await http.get("/console/cameras?fault=black")).text
        assert 'data-camera="c2"' not in only_black
        history = await http.get("/console/cameras/c2")
        assert history.status_code == 200
        assert "mean_luma=120" in history.text
        async with client(s.app) as village:
            await login(village, "dongcun", PASSWORD)
            assert 'data-camera="c2"' not in (await village.get("/console/cameras")).text
            assert (await village.get("/console/cameras/c2")).status_code == 404


async def test_no_camera_monitor(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await login(http, "admin", ADMIN_PASSWORD)
        assert (await http.get("/console/cameras")).status_code == 404


async def test_api_description_and_docs(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        spec = await http.get("/api/v1/openapi.json")
        assert spec.json()["openapi"].startswith("3.1")
        docs = await http.get("/api/docs")
        assert docs.status_code == 200
        assert "AcceptBody" in docs.text
        assert "cdn" not in docs.text.lower()
