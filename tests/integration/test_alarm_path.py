"""The alarm path against a real Mosquitto and a real SQLite file, gateway in-process."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from device_sim.procs import ManagedProcess, mosquitto
from firmware_protocol.topics import Channel
from tests.support.gateway import running_gateway
from tests.support.site import UNREGISTERED, Site
from tests.support.terminal import connect_terminal
from tests.support.wait import until

pytestmark = pytest.mark.integration

TOKEN = "integration-token-0123456789"


def _metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _stored_stage(db: Path, terminal_id: str, alert_id: str) -> str | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute(
            "SELECT stage FROM alerts WHERE terminal_id = ? AND alert_id = ?",
            (terminal_id, alert_id),
        ).fetchone()
    return None if row is None else str(row[0])


async def test_received_only_after_the_alert_is_committed(
    site: Site, broker: ManagedProcess
) -> None:
    cfg = site.config()
    t = site.terminals[0].terminal_id
    async with (
        running_gateway(cfg),
        connect_terminal(site.broker_port, t, site.passwords[t]) as terminal,
    ):
        await terminal.alert("b1-0001")
        async with asyncio.timeout(10):
            ack = await terminal.wait_ack("b1-0001", "received")
        # The ack is out, so the alert must already be durable in the file.
        assert _stored_stage(cfg.store.path, t, "b1-0001") == "received"
        assert ack["v"] == 1


async def test_retransmission_answers_the_current_stage(site: Site, broker: ManagedProcess) -> None:
    cfg = site.config(api={"tokens": [{"name": "cc", "token_env": "CC_TOKEN"}]})
    t = site.terminals[1].terminal_id
    async with (
        running_gateway(cfg, {"CC_TOKEN": TOKEN}) as gateway,
        connect_terminal(site.broker_port, t, site.passwords[t]) as terminal,
    ):
        await terminal.alert("b1-0002", kind="meal")
        async with asyncio.timeout(10):
            await terminal.wait_ack("b1-0002", "received")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.http_port}") as http:
            reply = await http.post(
                f"/api/v1/alerts/{t}/b1-0002/accept",
                json={"by": "网格员 王芳", "eta_s": 600},
                headers={"authorization": f"Bearer {TOKEN}"},
            )
        assert reply.status_code == 200, reply.text
        async with asyncio.timeout(10):
            accepted = await terminal.wait_ack("b1-0002", "accepted")
        assert accepted["by"] == "网格员 王芳"
        assert accepted["eta_s"] == 600
        before = len(terminal.acks)
        await terminal.alert("b1-0002", kind="meal")  # a late retransmission
        async with asyncio.timeout(10), terminal.arrived:
            await terminal.arrived.wait_for(lambda: len(terminal.acks) > before)
        assert terminal.acks[-1]["stage"] == "accepted"
    with sqlite3.connect(cfg.store.path) as conn:
        assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == 1


BAD_PAYLOADS = {
    "not_json": b"\xff\xfe not json",
    "not_object": b"[1, 2]",
    "bad_version": b'{"v": 9, "alert_id": "a", "kind": "meal", "ts": 1}',
    "unknown_kind": b'{"v": 1, "alert_id": "a", "kind": "party", "ts": 1}',
    "missing_field": b'{"v": 1, "kind": "meal", "ts": 1}',
    "bad_type": b'{"v": 1, "alert_id": "a", "kind": "meal", "ts": "yesterday"}',
    "bad_value": b'{"v": 1, "alert_id": "a b", "kind": "meal", "ts": 1}',
    # Over the protocol's 2,048 bytes, under the broker's packet limit: the gateway sees it.
    "oversize": b'{"v": 1, "note": "' + b"x" * 2500 + b'"}',
    "terminal_mismatch": b'{"v": 1, "terminal_id": "T000002", "alert_id": "a", "kind": "meal",'
    b' "ts": 1}',
}


async def test_bad_input_is_counted_and_never_disturbs_others(
    site: Site, broker: ManagedProcess
) -> None:
    cfg = site.config()
    bad_id, good_id = site.terminals[2].terminal_id, site.terminals[3].terminal_id
    before = {r: _metric("gateway_rejected_messages_total", reason=r) for r in BAD_PAYLOADS}
    before_unknown = _metric("gateway_rejected_messages_total", reason="unknown_terminal")
    async with (
        running_gateway(cfg),
        connect_terminal(site.broker_port, bad_id, site.passwords[bad_id]) as bad,
        connect_terminal(site.broker_port, good_id, site.passwords[good_id]) as good,
        connect_terminal(site.broker_port, UNREGISTERED, site.passwords[UNREGISTERED]) as ghost,
    ):
        for payload in BAD_PAYLOADS.values():
            await bad.publish(Channel.ALERT, payload)
        await ghost.alert("g-1")
        await good.alert("ok-1")
        async with asyncio.timeout(10):
            await good.wait_ack("ok-1", "received")
        async with asyncio.timeout(10):
            await until(
                lambda: (
                    _metric("gateway_rejected_messages_total", reason="unknown_terminal")
                    > before_unknown
                )
            )
        await asyncio.sleep(0.3)  # let any (wrong) ack to the bad terminal arrive
        assert bad.acks == []
        assert ghost.acks == []
    for reason, count in before.items():
        assert _metric("gateway_rejected_messages_total", reason=reason) == count + 1, reason


async def test_acl_keeps_a_terminal_to_its_own_topics(site: Site, broker: ManagedProcess) -> None:
    cfg = site.config()
    a, b = site.terminals[4].terminal_id, site.terminals[5].terminal_id
    async with (
        running_gateway(cfg),
        connect_terminal(site.broker_port, a, site.passwords[a]) as intruder,
        connect_terminal(site.broker_port, b, site.passwords[b]) as victim,
    ):
        # a publishes an alert in b's name and subscribes to b's acks: the broker refuses.
        await intruder.client.subscribe(f"ec/v1/t/{b}/ack", qos=1)
        await intruder.client.publish(
            f"ec/v1/t/{b}/alert", json.dumps({"v": 1, "alert_id": "x", "kind": "meal", "ts": 1})
        )
        await victim.alert("real-1")
        async with asyncio.timeout(10):
            await victim.wait_ack("real-1", "received")
        await asyncio.sleep(0.3)
        assert [a["alert_id"] for a in victim.acks] == ["real-1"]
        assert intruder.acks == []
    assert _stored_stage(cfg.store.path, b, "x") is None


async def test_dangerous_vitals_raise_a_medical_alert(site: Site, broker: ManagedProcess) -> None:
    cfg = site.config()
    t = site.terminals[6].terminal_id
    report = {"v": 1, "report_id": "r-77", "ts": 1.7e9, "vitals": {"spo2_pct": 82.5}}
    async with (
        running_gateway(cfg),
        connect_terminal(site.broker_port, t, site.passwords[t]) as terminal,
    ):
        await terminal.publish(Channel.HEALTH, json.dumps(report))
        async with asyncio.timeout(10):
            await terminal.wait_ack("v-r-77", "received")
    with sqlite3.connect(cfg.store.path) as conn:
        kind, origin = conn.execute(
            "SELECT kind, origin FROM alerts WHERE alert_id = 'v-r-77'"
        ).fetchone()
    assert (kind, origin) == ("medical", "vitals")


async def test_gateway_rides_out_a_broker_restart(site: Site, broker: ManagedProcess) -> None:
    cfg = site.config()
    t = site.terminals[7].terminal_id
    async with running_gateway(cfg) as gateway:
        broker.stop()
        async with asyncio.timeout(10):
            await until(lambda: not gateway.link.connected)
        with mosquitto(site.broker_conf, site.root / "mosquitto2.log") as again:
            again.wait_port("127.0.0.1", site.broker_port)
            async with asyncio.timeout(30):
                await gateway.link.wait_connected()
            async with connect_terminal(site.broker_port, t, site.passwords[t]) as terminal:
                await terminal.alert("after-restart")
                async with asyncio.timeout(10):
                    await terminal.wait_ack("after-restart", "received")


async def test_third_party_cli_client_follows_the_protocol(
    site: Site, broker: ManagedProcess
) -> None:
    """``mosquitto_rr`` exactly as PROTOCOL.md §13 shows it, over TLS with the site CA."""
    cfg = site.config()
    t = site.terminals[8].terminal_id
    body = '{"v":1,"alert_id":"b1-0001","kind":"emergency","ts":1764000000}'
    argv = [
        "mosquitto_rr", "-h", "127.0.0.1", "-p", str(site.tls_port), "--cafile",
        str(site.ca_file), "-u", t, "-P", site.passwords[t], "-q", "1", "-W", "15",
        "-t", f"ec/v1/t/{t}/alert", "-e", f"ec/v1/t/{t}/ack", "-m", body,
    ]  # fmt: skip
    async with running_gateway(cfg):
        first = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
        out, _ = await first.communicate()
        again = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE)
        repeat, _ = await again.communicate()
    assert first.returncode == 0
    ack = json.loads(out)
    assert (ack["alert_id"], ack["stage"]) == ("b1-0001", "received")
    assert json.loads(repeat)["alert_id"] == "b1-0001"  # a duplicate: the current stage


async def test_two_gateways_share_the_load_without_duplicates(
    site: Site, broker: ManagedProcess
) -> None:
    """MQTT 5 shared subscription + one SQLite file: every alert stored and acked once."""
    first = site.config(mqtt={"share_group": "gw", "client_id": "gw-a"})
    second = site.config(mqtt={"share_group": "gw", "client_id": "gw-b"})
    ids = [t.terminal_id for t in site.terminals[:10]]
    async with running_gateway(first), running_gateway(second):
        for n, t in enumerate(ids):
            async with connect_terminal(site.broker_port, t, site.passwords[t]) as terminal:
                await terminal.alert(f"s-{n}")
                async with asyncio.timeout(10):
                    await terminal.wait_ack(f"s-{n}", "received")
                await asyncio.sleep(0.1)
                assert [a["stage"] for a in terminal.acks] == ["received"]
    with sqlite3.connect(first.store.path) as conn:
        assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == len(ids)
