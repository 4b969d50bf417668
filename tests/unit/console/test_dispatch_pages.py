"""The alarm page's elder record, call sequence and service request, the elders' pages,
the report with its CSV, and the wall display's summary — over HTTP, on real stores."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

from firmware_protocol.messages import AlertKind, Stage
from gateway.console.accounts import create_account
from gateway.console.feed import ChangeFeed
from gateway.core.elders import Contact, ElderRecord
from gateway.dispatch.worker import Dispatcher
from gateway.store.alerts import Advance
from tests.unit.console.factory import (
    ADMIN_PASSWORD,
    DONGCUN,
    FAST_PASSWORDS,
    PASSWORD,
    Site,
    press,
    site,
)
from tests.unit.console.pages_helpers import client, csrf, login

ALERT = "/console/alerts/T001/a1"
RECORD = ElderRecord(
    "T001", address="滨江区长安路 8 号 2 单元 302", access="钥匙盒 4711", medical="糖尿病",
    language="杭州话", lives_alone=True,
    contacts=(Contact("李娜", "relative", "13800000011"),
              Contact("王强", "neighbour", "13800000012"),
              Contact("社区服务站", "service_station", "0571-88880000")),
)  # fmt: skip


async def _record(s: Site, record: ElderRecord = RECORD) -> None:
    assert s.desk is not None
    await s.desk.elders.put(record, "admin", time.time())


async def _sweep(s: Site) -> None:
    assert s.desk is not None
    await Dispatcher(s.desk, ["emergency", "medical"], 1.0, 3600.0).sweep()


async def _audit(s: Site) -> list[tuple[str, str]]:
    return [(e["actor"], e["action"]) for e in reversed(await s.console.operations.audit.recent())]


async def test_the_alarm_page_shows_the_record_but_not_the_access_until_asked(
    tmp_path: Path,
) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await _record(s)
        await press(s.db, "T001", "a1")
        await _sweep(s)
        await login(http, "admin", ADMIN_PASSWORD)
        page = (await http.get(ALERT)).text
        for shown in ("滨江区长安路 8 号", "糖尿病", "杭州话", "Lives alone", "李娜", "王强",
                      'class="village">Dongcun<', "Calling responders"):  # fmt: skip
            assert shown in page, shown
        assert "4711" not in page
        revealed = await http.post(ALERT + "/access", data={"csrf": await csrf(http)})
        assert "钥匙盒 4711" in revealed.text
        assert ("admin", "elder.access_shown") in await _audit(s)


async def test_technicians_see_no_access_button(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await _record(s)
        await press(s.db, "T001", "a1")
        await create_account(s.db, "tech", PASSWORD, "technician", (), passwords=FAST_PASSWORDS)
        await login(http, "tech", PASSWORD)
        page = (await http.get(ALERT)).text
        assert 'id="access-form"' not in page
        response = await http.post(ALERT + "/access", data={"csrf": await csrf(http)})
        assert response.status_code == 403


async def test_operators_skip_reassign_and_take_over_from_the_page(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await _record(s)
        await press(s.db, "T001", "a1")
        await _sweep(s)
        await login(http, "admin", ADMIN_PASSWORD)
        tok = await csrf(http)
        skipped = await http.post(ALERT + "/dispatch/skip", data={"csrf": tok})
        assert skipped.headers["location"] == ALERT + "?msg=skipped"
        other = {"csrf": tok, "position": "1", "name": "张医生", "phone": "13900000000",
                 "role": "doctor"}  # fmt: skip
        assert "msg=reassigned" in (await http.post(ALERT + "/dispatch/reassign", data=other))\
            .headers["location"]  # fmt: skip
        taken = await http.post(ALERT + "/dispatch/take-over", data={"csrf": tok})
        assert taken.headers["location"] == ALERT + "?msg=taken_over"
        page = (await http.get(ALERT)).text
        assert "Taken over by an operator" in page
        assert page.count('data-outcome="') == 3
        assert "张医生" in page


async def test_a_meal_request_is_scheduled_assigned_and_completed(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await _record(s)
        await press(s.db, "T001", "m1", AlertKind.MEAL)
        await login(http, "admin", ADMIN_PASSWORD)
        meal = "/console/alerts/T001/m1"
        page = (await http.get(meal)).text
        assert 'id="service"' in page
        assert 'id="sequence"' not in page
        assert "社区服务站" in page  # offered as a provider
        tok = await csrf(http)
        at = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 3600))
        scheduled = await http.post(meal + "/service/schedule", data={"csrf": tok, "at": at,
                                                                      "when": "at"})  # fmt: skip
        assert scheduled.headers["location"].endswith("msg=scheduled")
        assigned = await http.post(meal + "/service/assign", data={"csrf": tok, "provider": "0"})
        assert assigned.headers["location"].endswith("msg=service_assigned")
        done = await http.post(meal + "/service/complete", data={"csrf": tok, "note": "送餐到家"})
        assert done.headers["location"].endswith("msg=completed")
        stages = [(u.stage, u.by, u.note) for u in s.acks.updates]
        assert stages[0][:2] == (Stage.ACCEPTED, "社区服务站")
        assert stages[-1] == (Stage.RESOLVED, "admin", "送餐到家")
        assert 50 * 60 < (s.acks.updates[0].eta_s or 0) <= 3600 + 60
        page = (await http.get(meal)).text
        assert "Completed" in page


async def test_the_feed_puts_service_requests_in_their_own_lane(tmp_path: Path) -> None:
    async with site(tmp_path) as s:
        await press(s.db, "T001", "e1", AlertKind.EMERGENCY)
        await press(s.db, "T002", "m1", AlertKind.MEAL)
        feed = ChangeFeed(s.db, (), s.registry, s.console.rules, 2.0,
                          service_kinds=s.console.service_kinds)  # fmt: skip
        lanes = {a["alert_id"]: a["lane"] for a in await feed.snapshot(time.time(), 100)}
        assert lanes == {"e1": "alarm", "m1": "service"}


async def test_admins_edit_a_record_and_the_change_is_audited(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await _record(s)
        await login(http, "admin", ADMIN_PASSWORD)
        form = (await http.get("/console/elders/T001")).text
        assert "4711" not in form  # never put back into the form
        data = {"csrf": await csrf(http), "address": "新地址 1 号", "medical": "糖尿病",
                "language": "杭州话", "lives_alone": "1",
                "contact_name_0": "李娜", "contact_role_0": "relative",
                "contact_phone_0": "13800000011", "contact_order_0": "2",
                "contact_name_1": "王强", "contact_role_1": "neighbour",
                "contact_phone_1": "13800000012", "contact_order_1": "1"}  # fmt: skip
        saved = await http.post("/console/elders/T001", data=data)
        assert saved.headers["location"] == "/console/elders/T001?done=saved"
        assert s.desk is not None
        record = await s.desk.elders.get("T001", with_access=True)
        assert record is not None
        assert record.address == "新地址 1 号"
        assert record.access == "钥匙盒 4711"  # kept
        assert [c.name for c in record.contacts] == ["王强", "李娜"]
        bad = await http.post("/console/elders/T001", data={**data, "contact_phone_0": "abc"})
        assert bad.status_code == 400
        assert "contacts[2].phone" in bad.text
        entries = await s.console.operations.audit.recent()
        changed = [e for e in entries if e["action"] == "elder.updated"]
        assert changed[0]["detail"] == {"fields": ["address", "contacts"]}


async def test_admins_import_a_csv_all_or_nothing(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await login(http, "admin", ADMIN_PASSWORD)
        good = ("terminal_id,address,lives_alone,contact1_name,contact1_role,contact1_phone\n"
                "T001,一号,是,李娜,亲属,13800000011\nT002,二号,no,,,\n")  # fmt: skip
        tok = await csrf(http)
        files = {"file": ("elders.csv", good.encode(), "text/csv")}
        done = await http.post("/console/elders/import", data={"csrf": tok}, files=files)
        assert done.headers["location"].startswith("/console/elders?done=imported&created=2")
        listing = (await http.get("/console/elders")).text
        assert "一号" in listing
        bad = good + "T999,nowhere,no,,,\n"
        files = {"file": ("elders.csv", bad.encode(), "text/csv")}
        refused = await http.post("/console/elders/import", data={"csrf": tok}, files=files)
        assert refused.status_code == 400
        assert "elders.csv:4: terminal_id" in refused.text


async def test_village_operators_cannot_reach_other_villages_records(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await create_account(s.db, "dong", PASSWORD, "admin", DONGCUN, passwords=FAST_PASSWORDS)
        await login(http, "dong", PASSWORD)
        assert (await http.get("/console/elders/T003")).status_code == 404
        assert (await http.get("/api/v1/elders/T003")).status_code == 404
        assert (await http.get("/api/v1/elders/T001")).status_code == 200


async def test_report_counts_and_csv(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        now = time.time()
        for n, wait in enumerate((20, 50, 90)):
            await press(s.db, "T001", f"e{n}", AlertKind.EMERGENCY, now - 600)
            await s.console.operations.alerts.advance([_accept("T001", f"e{n}")], now - 600 + wait)
        await press(s.db, "T003", "m1", AlertKind.MEAL, now - 300)
        await login(http, "admin", ADMIN_PASSWORD)
        page = await http.get("/console/reports")  # the district, by town
        assert page.status_code == 200
        assert '<span id="r-emergencies">3</span>' in page.text
        assert '<span id="r-within">66.7%</span>' in page.text
        data = (await http.get("/api/v1/reports?region=Binjiang")).json()
        assert data["total"]["accepted_within_60s_share"] == 0.6667
        assert data["total"]["accept_p50_s"] == 50.0
        assert data["total"]["alarms_by_kind"] == {"emergency": 3, "meal": 1}
        assert [r["area"] for r in data["rows"]] == [["Binjiang", "Changan"], ["Binjiang", "Puyan"]]
        exported = await http.get("/console/reports.csv?region=Binjiang")
        rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
        assert rows[-1]["area"] == "total"
        assert rows[-1]["emergency"] == "3"
        assert rows[-1]["accepted_within_60s_share"] == "0.6667"


def _accept(terminal_id: str, alert_id: str) -> Advance:
    return Advance(terminal_id, alert_id, Stage.ACCEPTED, "Li")


async def test_the_wall_display_summary_counts_by_town(tmp_path: Path) -> None:
    async with site(tmp_path) as s, client(s.app) as http:
        await press(s.db, "T001", "e1", AlertKind.EMERGENCY)
        await press(s.db, "T005", "m1", AlertKind.MEAL)
        await login(http, "admin", ADMIN_PASSWORD)
        assert (await http.get("/console/kiosk")).status_code == 200
        body = json.loads((await http.get("/console/kiosk/summary")).text)
        by_town = {r["name"]: r for r in body["rows"]}
        assert by_town["Changan"]["emergencies_waiting"] == 1
        assert by_town["Puyan"]["emergencies_waiting"] == 0
        assert body["total"]["services_waiting"] == 1
