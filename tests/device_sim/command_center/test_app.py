"""The webhook endpoint through its ASGI app (no socket)."""

from __future__ import annotations

import httpx
import pytest

from device_sim.command_center import CommandCenter, CommandCenterOptions, Mode
from tests.device_sim.command_center.helpers import SECRET, event, signed


@pytest.fixture
def center() -> CommandCenter:
    return CommandCenter(CommandCenterOptions(secret=SECRET))


def client(center: CommandCenter) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=center.app), base_url="http://cc")


async def test_signed_webhook_is_recorded_once(center: CommandCenter) -> None:
    body, headers = signed(event(), "evt-1")
    async with client(center) as http:
        first = await http.post("/webhook", content=body, headers=headers)
        again = await http.post("/webhook", content=body, headers=headers)
        records = (await http.get("/records")).json()
    assert (first.status_code, first.json()["duplicate"]) == (200, False)
    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert [e.webhook_id for e in center.events] == ["evt-1"]
    assert center.events[0].data["alert_id"] == "b1-0001"
    assert (records["events"], records["duplicates"], records["by_type"]) == (1, 1, {"alert": 1})
    assert records["latency_s"]["alert_receive"]["count"] == 1


async def test_bad_signatures_are_401_and_counted(center: CommandCenter) -> None:
    body, headers = signed(event(), "evt-1", secret="whsec_" + "QUJD" * 8)
    garbled = {**signed(event(), "evt-2")[1], "webhook-signature": "nonsense"}
    async with client(center) as http:
        assert (await http.post("/webhook", content=body, headers=headers)).status_code == 401
        assert (await http.post("/webhook", content=body, headers=garbled)).status_code == 401
        assert (await http.post("/webhook", content=body)).status_code == 401
        tampered = body.replace(b"emergency", b"meal")
        _, good = signed(event(), "evt-3")
        assert (await http.post("/webhook", content=tampered, headers=good)).status_code == 401
    assert center.events == []
    assert center.records()["bad_signatures"] == 4


async def test_signed_but_malformed_event_is_400(center: CommandCenter) -> None:
    body, headers = signed({**event(), "region": "nowhere"}, "evt-1")
    async with client(center) as http:
        response = await http.post("/webhook", content=body, headers=headers)
    assert response.status_code == 400
    assert "region" in response.json()["error"]


async def test_fail_mode_answers_5xx_and_records_nothing(center: CommandCenter) -> None:
    body, headers = signed(event(), "evt-1")
    async with client(center) as http:
        control = await http.post("/control", json={"mode": "fail", "status": 502})
        failed = await http.post("/webhook", content=body, headers=headers)
        await http.post("/control", json={"mode": "ok"})
        accepted = await http.post("/webhook", content=body, headers=headers)
    assert control.json()["mode"] == "fail"
    assert failed.status_code == 502
    assert accepted.status_code == 200
    assert len(center.events) == 1
    assert center.records()["failed_on_purpose"] == 1


async def test_slow_mode_delays_then_records(center: CommandCenter) -> None:
    center.set_mode(Mode.SLOW, delay_s=0.05)
    body, headers = signed(event(), "evt-1")
    async with client(center) as http:
        response = await http.post("/webhook", content=body, headers=headers)
    assert response.status_code == 200
    assert center.records()["slowed"] == 1


async def test_control_refuses_bad_keys(center: CommandCenter) -> None:
    async with client(center) as http:
        bad = await http.post("/control", json={"mode": "ok", "for": 3})
        not_json = await http.post("/control", content=b"{")
        health = await http.get("/healthz")
    assert bad.status_code == 400
    assert "for" in bad.json()["error"]
    assert not_json.status_code == 400
    assert health.json() == {"ok": True, "mode": "ok", "events": 0}


async def test_records_can_include_the_events(center: CommandCenter) -> None:
    body, headers = signed(event(), "evt-1")
    async with client(center) as http:
        await http.post("/webhook", content=body, headers=headers)
        records = (await http.get("/records", params={"events": "1"})).json()
    [only] = records["event_list"]
    assert only["event_id"] == "alert:t-01:b1-0001"
    assert only["region"] == ["district-1", "street-2"]


def test_options_name_bad_values() -> None:
    with pytest.raises(ValueError, match="secret"):
        CommandCenterOptions(secret="whsec_!!!")
    with pytest.raises(ValueError, match="fail_rate"):
        CommandCenterOptions(secret=SECRET, fail_rate=3)
    from device_sim.command_center import ResponderOptions

    with pytest.raises(ValueError, match="gateway_api"):
        CommandCenterOptions(secret=SECRET, responder=ResponderOptions(accept_after_s=1))


def batch(*events: dict[str, object]) -> dict[str, object]:
    """A batch body as the gateway sends it."""
    return {"type": "batch", "batch_id": "batch_1", "count": len(events), "events": list(events)}


async def test_a_batch_is_recorded_event_by_event_without_duplicates(
    center: CommandCenter,
) -> None:
    one, two = event("alert:t-01:b1"), event("health:t-01:r1", event_type="health", data={})
    async with client(center) as http:
        body, headers = signed(batch(one, two), "batch_1")
        first = await http.post("/webhook", content=body, headers=headers)
        body, headers = signed(batch(two, event("alert:t-01:b2")), "batch_2")
        second = await http.post("/webhook", content=body, headers=headers)
    assert first.json() == {"ok": True, "accepted": 2, "duplicates": 0}
    assert second.json() == {"ok": True, "accepted": 1, "duplicates": 1}
    assert [e.event_id for e in center.events] == ["alert:t-01:b1", "health:t-01:r1",
                                                   "alert:t-01:b2"]  # fmt: skip
    assert {e.webhook_id for e in center.events} == {"batch_1", "batch_2"}


@pytest.mark.parametrize(
    "payload",
    [batch(event(), {**event("alert:t-01:b2"), "region": 3}), {"type": "batch", "events": []}],
)
async def test_a_batch_with_a_bad_event_is_refused_whole(
    center: CommandCenter, payload: dict[str, object]
) -> None:
    body, headers = signed(payload, "batch_x")
    async with client(center) as http:
        response = await http.post("/webhook", content=body, headers=headers)
    assert response.status_code == 400
    assert center.events == []
