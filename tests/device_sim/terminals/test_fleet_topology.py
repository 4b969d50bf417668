"""Terminals spread over brokers by their credentials, over TLS, and what failures count as."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from device_sim.terminals.credentials import Credential, load_credentials
from device_sim.terminals.fleet import Fleet
from device_sim.terminals.options import Broker, Endpoint, FleetOptions
from firmware_protocol.messages import AlertKind, Stage
from firmware_protocol.topics import Channel
from tests.device_sim.terminals.broker import (
    MosquittoBroker,
    restart_mosquitto,
    start_mosquitto,
    stop_mosquitto,
)
from tests.device_sim.terminals.gateway_double import GatewayDouble, stop
from tests.device_sim.terminals.test_fleet_broker import QUICK_RECONNECT, QUICK_RETRY

pytestmark = pytest.mark.integration


@pytest.fixture
def two_brokers(tmp_path: Path) -> Iterator[tuple[MosquittoBroker, MosquittoBroker]]:
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto is not installed")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, a = start_mosquitto(tmp_path / "a")
    try:
        second, b = start_mosquitto(tmp_path / "b")
        try:
            yield a, b
        finally:
            stop_mosquitto(second)
    finally:
        stop_mosquitto(first)


def fleet(broker: Broker, credentials: list[Credential], **options: object) -> Fleet:
    return Fleet(broker, credentials, FleetOptions(**options),  # type: ignore[arg-type]
                 alert_retry=QUICK_RETRY, reconnect=QUICK_RECONNECT)  # fmt: skip


async def test_each_terminal_connects_to_the_broker_its_credentials_name(
    two_brokers: tuple[MosquittoBroker, MosquittoBroker], tmp_path: Path
) -> None:
    a, b = two_brokers
    rows = [f"{c.terminal_id},{c.password},mqtt://127.0.0.1:{a.port if i < 4 else b.port}"
            for i, c in enumerate(a.terminals)]  # fmt: skip
    sheet = tmp_path / "credentials.csv"
    sheet.write_text("\n".join(["terminal_id,password,broker", *rows]) + "\n")
    credentials = load_credentials(sheet)
    sim = fleet(Broker(port=1), credentials)  # the default broker is unused
    gateway_a, gateway_b = GatewayDouble(a.port), GatewayDouble(b.port)
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(g.run()) for g in (gateway_a, gateway_b)]
        await gateway_a.ready.wait()
        await gateway_b.ready.wait()
        run = tg.create_task(sim.run())
        async with asyncio.timeout(10):
            await sim.wait_connected()
            first = sim.press("t-01", AlertKind.EMERGENCY)
            fifth = sim.press("t-05", AlertKind.MEAL)
            await sim.wait_stage("t-01", first, Stage.RECEIVED)
            await sim.wait_stage("t-05", fifth, Stage.RECEIVED)
        sim.stop()
        summary = await run
        for task in tasks:
            await stop(task)
    online_a = {u.terminal_id for u in gateway_a.seen if u.channel is Channel.STATUS}
    online_b = {u.terminal_id for u in gateway_b.seen if u.channel is Channel.STATUS}
    assert online_a == {"t-01", "t-02", "t-03", "t-04"}
    assert online_b == {"t-05", "t-06", "t-07", "t-08"}
    assert [u.terminal_id for u in gateway_a.seen if u.channel is Channel.ALERT] == ["t-01"]
    assert [u.terminal_id for u in gateway_b.seen if u.channel is Channel.ALERT] == ["t-05"]
    assert summary.connected == 8
    assert summary.lost == 0
    assert summary.cost.terminals == 8
    assert summary.cost.connect_s is not None
    assert summary.cost.rss_bytes > 0


def tls_credentials(broker: MosquittoBroker, password: str | None = None) -> list[Credential]:
    url = Endpoint("localhost", broker.tls_port or 0, tls=True)
    return [Credential(c.terminal_id, password or c.password, url) for c in broker.terminals[:2]]


async def test_terminals_over_tls_with_the_site_ca(mosquitto_tls: MosquittoBroker) -> None:
    assert mosquitto_tls.tls is not None
    sim = fleet(Broker(ca_file=mosquitto_tls.tls.ca), tls_credentials(mosquitto_tls))
    gateway = GatewayDouble(mosquitto_tls.port)  # the gateway on the plain listener
    async with asyncio.TaskGroup() as tg:
        gateway_task = tg.create_task(gateway.run())
        await gateway.ready.wait()
        run = tg.create_task(sim.run())
        async with asyncio.timeout(10):
            await sim.wait_connected()
            alert = sim.press("t-02", AlertKind.NURSING)
            await sim.wait_stage("t-02", alert, Stage.RECEIVED)
        sim.stop()
        summary = await run
        await stop(gateway_task)
    assert summary.connected == 2
    assert summary.connect_failures == 0
    assert summary.lost == 0


async def run_until_failures(sim: Fleet, failures: int) -> None:
    async with asyncio.TaskGroup() as tg:
        run = tg.create_task(sim.run())
        async with asyncio.timeout(10):
            await sim.wait_for(lambda: sim.report().connect_failures >= failures)
        sim.stop()
        await run


async def test_a_wrong_ca_is_a_counted_tls_failure(mosquitto_tls: MosquittoBroker) -> None:
    assert mosquitto_tls.tls is not None
    sim = fleet(Broker(ca_file=mosquitto_tls.tls.other_ca), tls_credentials(mosquitto_tls))
    await run_until_failures(sim, 4)
    summary = sim.report()
    assert summary.connected == 0
    [(reason, count)] = summary.connect_errors.items()
    assert reason.startswith("tls: certificate verify failed")
    assert count == summary.connect_failures >= 4


async def test_a_wrong_password_over_tls_is_a_counted_refusal(
    mosquitto_tls: MosquittoBroker,
) -> None:
    assert mosquitto_tls.tls is not None
    credentials = tls_credentials(mosquitto_tls, password="wrong")
    sim = fleet(Broker(ca_file=mosquitto_tls.tls.ca), credentials)
    await run_until_failures(sim, 2)
    summary = sim.report()
    assert summary.connected == 0
    assert set(summary.connect_errors) <= {"refused: not authorized",
                                           "refused: bad user name or password"}  # fmt: skip
    assert sum(summary.connect_errors.values()) == summary.connect_failures


def test_tls_without_a_ca_names_the_option(mosquitto_tls: MosquittoBroker) -> None:
    with pytest.raises(ValueError, match="--ca-file"):
        fleet(Broker(), tls_credentials(mosquitto_tls))


async def test_keepalive_holds_an_idle_connection(mosquitto: MosquittoBroker) -> None:
    # Mosquitto drops a client silent for 1.5 x keepalive (7.5 s here); status is hourly.
    sim = Fleet(Broker(port=mosquitto.port, keepalive_s=5), mosquitto.terminals[:1],
                FleetOptions(status_interval_s=3600), reconnect=QUICK_RECONNECT)  # fmt: skip
    async with asyncio.TaskGroup() as tg:
        run = tg.create_task(sim.run())
        async with asyncio.timeout(10):
            await sim.wait_connected()
        await asyncio.sleep(9)
        sim.stop()
        summary = await run
    assert summary.reconnects == 0
    assert summary.published == {"status": 1}


async def test_broker_restart_reconnects_everyone_and_the_pending_alarm_gets_through(
    tmp_path: Path,
) -> None:
    if shutil.which("mosquitto") is None:
        pytest.skip("mosquitto is not installed")
    process, broker = start_mosquitto(tmp_path)
    sim = fleet(Broker(port=broker.port), broker.terminals[:2])
    try:
        async with asyncio.TaskGroup() as tg:
            run = tg.create_task(sim.run())
            async with asyncio.timeout(10):
                await sim.wait_connected()
            stop_mosquitto(process)
            async with asyncio.timeout(10):
                await sim.wait_for(lambda: sim.snapshot().online == 0)
            alert = sim.press("t-01", AlertKind.EMERGENCY)  # while the broker is down
            async with asyncio.timeout(10):  # both keep trying, and each try is counted
                await sim.wait_for(lambda: sim.report().connect_failures >= 2)
            process = restart_mosquitto(tmp_path, broker)
            gateway = GatewayDouble(broker.port)
            gateway_task = tg.create_task(gateway.run())
            async with asyncio.timeout(20):
                await sim.wait_stage("t-01", alert, Stage.RECEIVED)
                await sim.wait_connected()
            sim.stop()
            summary = await run
            await stop(gateway_task)
    finally:
        stop_mosquitto(process)
    assert summary.reconnects == 2
    assert summary.lost == 0
    assert summary.connect_failures >= 2
    assert all(reason.startswith("tcp: ") for reason in summary.connect_errors)
