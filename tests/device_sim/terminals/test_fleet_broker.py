"""The fleet against a real Mosquitto and a gateway stand-in on the wire."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import pytest

from device_sim.terminals.backoff import FixedDelays
from device_sim.terminals.credentials import Credential
from device_sim.terminals.fleet import Fleet
from device_sim.terminals.malformed import Malformed
from device_sim.terminals.options import Broker, FleetOptions
from device_sim.terminals.scenario import Scenario
from device_sim.terminals.summary import Summary
from firmware_protocol.codec import decode_alert, decode_health, decode_status, encode_status
from firmware_protocol.errors import ProtocolError
from firmware_protocol.messages import (
    AlertKind,
    Command,
    CommandName,
    Stage,
    Status,
    TerminalState,
)
from firmware_protocol.topics import Channel
from tests.device_sim.terminals.broker import MosquittoBroker
from tests.device_sim.terminals.gateway_double import GatewayDouble, stop

pytestmark = pytest.mark.integration

QUICK_RETRY = FixedDelays([0.2])
QUICK_RECONNECT = FixedDelays([0.1, 0.2, 0.5])


def make_fleet(
    broker: MosquittoBroker,
    credentials: list[Credential] | None = None,
    *,
    mqtt5: bool = False,
    **options: object,
) -> Fleet:
    return Fleet(
        Broker(port=broker.port, mqtt5=mqtt5),
        credentials if credentials is not None else broker.terminals[:2],
        FleetOptions(**options),  # type: ignore[arg-type]
        alert_retry=QUICK_RETRY,
        reconnect=QUICK_RECONNECT,
    )


async def play(fleet: Fleet, gateway: GatewayDouble) -> Summary:
    """Run a fleet's scenario to its end against the gateway stand-in."""
    async with asyncio.TaskGroup() as tg:
        gateway_task = tg.create_task(gateway.run())
        await gateway.ready.wait()
        async with asyncio.timeout(30):
            summary = await fleet.run()
        await stop(gateway_task)
    return summary


@contextlib.asynccontextmanager
async def running(fleet: Fleet, gateway: GatewayDouble) -> AsyncIterator[None]:
    """Gateway stand-in first (it must see retained messages live), then the fleet."""
    async with asyncio.TaskGroup() as tg:
        gateway_task = tg.create_task(gateway.run(), name="gateway-double")
        async with asyncio.timeout(10):
            await gateway.ready.wait()
        tg.create_task(fleet.run(), name="fleet")
        try:
            async with asyncio.timeout(10):
                await fleet.wait_connected()
            yield
        finally:
            fleet.stop()
            await stop(gateway_task)


async def test_alert_is_retransmitted_until_received_then_stops(mosquitto: MosquittoBroker) -> None:
    fleet = make_fleet(mosquitto)
    gateway = GatewayDouble(mosquitto.port, ack_on_copy=3)
    async with running(fleet, gateway):
        alert_id = fleet.press("t-01", AlertKind.EMERGENCY)
        async with asyncio.timeout(10):
            record = await fleet.wait_stage("t-01", alert_id, Stage.RECEIVED)
        sends_when_received = record.sends
        await asyncio.sleep(1.0)  # five retry periods: nothing more may go out
        assert record.sends == sends_when_received
    copies = [decode_alert("t-01", u.payload) for u in gateway.of("t-01", Channel.ALERT)]
    assert len(copies) == record.sends >= 3
    assert {c.alert_id for c in copies} == {alert_id}
    assert len({(c.ts, c.kind) for c in copies}) == 1  # the same alert each time
    assert fleet.report().retransmissions == record.sends - 1


async def test_stages_tracked_out_of_order_and_repeated(mosquitto: MosquittoBroker) -> None:
    fleet = make_fleet(mosquitto)
    order = (Stage.RECEIVED, Stage.ACCEPTED, Stage.DELIVERED, Stage.RECEIVED, Stage.RESOLVED)
    gateway = GatewayDouble(mosquitto.port, stages=order)
    async with running(fleet, gateway):
        alert_id = fleet.press("t-02", AlertKind.NURSING)
        async with asyncio.timeout(10):
            record = await fleet.wait_stage("t-02", alert_id, Stage.RESOLVED)
    assert record.highest is Stage.RESOLVED
    assert list(record.reached) == list(Stage)
    assert record.reached[Stage.DELIVERED] == record.reached[Stage.ACCEPTED]  # implied
    summary = fleet.report()
    assert summary.late_acks == 1  # delivered after accepted: ignored
    assert summary.duplicate_acks == 1  # received again
    assert summary.acknowledged == {s.value: 1 for s in Stage}
    assert summary.latency["press_to_resolved"].count == 1
    assert summary.lost == 0


async def test_drop_fires_the_will_and_pending_alerts_follow_the_reconnect(
    mosquitto: MosquittoBroker,
) -> None:
    fleet = make_fleet(mosquitto)
    gateway = GatewayDouble(mosquitto.port)
    will = encode_status(Status("t-01", TerminalState.OFFLINE))
    async with running(fleet, gateway):
        fleet.drop("t-01", back_after_s=0.5)
        async with asyncio.timeout(10):
            await gateway.wait_for(lambda: any(u.payload == will for u in gateway.seen))
            await fleet.wait_for(lambda: not fleet.is_online("t-01"))
        alert_id = fleet.press("t-01", AlertKind.MEAL)  # while offline: waits for the reconnect
        async with asyncio.timeout(10):
            await fleet.wait_stage("t-01", alert_id, Stage.RECEIVED)
    statuses = [decode_status("t-01", u.payload).state for u in gateway.of("t-01", Channel.STATUS)]
    went_offline = statuses.index(TerminalState.OFFLINE)
    assert TerminalState.ONLINE in statuses[went_offline:]  # back online after the will
    summary = fleet.report()
    assert summary.drops == 1
    assert summary.reconnects == 1


async def test_shutdown_publishes_retained_offline(mosquitto: MosquittoBroker) -> None:
    fleet = make_fleet(mosquitto, mosquitto.terminals[:1])
    gateway = GatewayDouble(mosquitto.port)
    async with running(fleet, gateway):
        pass
    async with asyncio.TaskGroup() as tg:
        late = GatewayDouble(mosquitto.port)  # subscribes after the fact: sees retained status
        task = tg.create_task(late.run())
        async with asyncio.timeout(10):
            await late.wait_for(lambda: bool(late.of("t-01", Channel.STATUS)))
        await stop(task)
    retained = late.of("t-01", Channel.STATUS)[0]
    assert retained.retain
    assert decode_status("t-01", retained.payload).state is TerminalState.OFFLINE


@pytest.mark.parametrize("klass", list(Malformed))
async def test_malformed_payload_goes_out_as_specified(
    mosquitto: MosquittoBroker, klass: Malformed
) -> None:
    fleet = make_fleet(mosquitto, mosquitto.terminals[:1])
    gateway = GatewayDouble(mosquitto.port)
    async with running(fleet, gateway):
        fleet.send_malformed("t-01", klass)
        async with asyncio.timeout(10):
            await gateway.wait_for(lambda: bool(gateway.of("t-01", Channel.ALERT)))
    [uplink] = gateway.of("t-01", Channel.ALERT)
    with pytest.raises(ProtocolError) as caught:
        decode_alert("t-01", uplink.payload)
    assert caught.value.reason is klass.reason
    assert fleet.report().published == {f"malformed:{klass}": 1, "status": 1}


async def test_dangerous_health_report_and_the_vitals_alert(mosquitto: MosquittoBroker) -> None:
    fleet = make_fleet(mosquitto, mosquitto.terminals[:1])
    gateway = GatewayDouble(mosquitto.port)
    async with running(fleet, gateway):
        report_id = fleet.send_health("t-01", dangerous=True)
        async with asyncio.timeout(10):
            await gateway.wait_for(lambda: bool(gateway.of("t-01", Channel.HEALTH)))
        await gateway.ack("t-01", f"v-{report_id}", Stage.RECEIVED)
        async with asyncio.timeout(10):
            record = await fleet.wait_stage("t-01", f"v-{report_id}", Stage.RECEIVED)
    health = decode_health("t-01", gateway.of("t-01", Channel.HEALTH)[0].payload)
    assert health.report_id == report_id
    assert health.vitals.heart_rate_bpm == 160
    assert record.kind == "vitals"
    summary = fleet.report()
    assert summary.vitals_alerts == summary.dangerous_reports == 1
    assert summary.dangerous_unalerted == 0
    assert summary.latency["report_to_received"].count == 1


async def test_commands_reach_a_terminal_subscribed_before_it_announced_itself(
    mosquitto: MosquittoBroker,
) -> None:
    fleet = make_fleet(mosquitto, mosquitto.terminals[:1])
    gateway = GatewayDouble(mosquitto.port)
    async with running(fleet, gateway):
        now = time.time()
        config = Command("c-1", CommandName.CONFIG, now, {"status_interval_s": 5})
        await gateway.command("t-01", config)
        await gateway.command("t-01", Command("c-2", CommandName.CALL_BACK, now, {"phone": "110"}))
        async with asyncio.timeout(10):
            await fleet.wait_for(lambda: len(fleet.callbacks) == 1)
            await fleet.wait_for(lambda: fleet.status_interval("t-01") == 5)
    [callback] = fleet.callbacks
    assert (callback.terminal_id, callback.cmd_id) == ("t-01", "c-2")
    assert callback.args == {"phone": "110"}
    assert fleet.report().commands == {"call_back": 1, "config": 1}


async def test_wrong_password_counts_connect_failures(mosquitto: MosquittoBroker) -> None:
    fleet = make_fleet(mosquitto, [Credential("t-01", "wrong")])
    async with asyncio.TaskGroup() as tg:
        tg.create_task(fleet.run())
        async with asyncio.timeout(10):
            await fleet.wait_for(lambda: fleet.report().connect_failures >= 2)
        fleet.stop()
    assert fleet.report().connected == 0


@pytest.mark.parametrize("mqtt5", [False, True], ids=["mqtt311", "mqtt5"])
async def test_scenario_runs_to_the_end_and_nothing_is_lost(
    mosquitto: MosquittoBroker, mqtt5: bool
) -> None:
    scenario = Scenario(
        duration_s=1.0, alert_rate=6.0, storm_count=4, storm_window_s=0.5, storm_at_s=0
    )
    options = {"scenario": scenario, "grace_s": 10.0, "seed": 7, "status_interval_s": 0.5}
    fleet = make_fleet(mosquitto, mosquitto.terminals, mqtt5=mqtt5, **options)
    gateway = GatewayDouble(mosquitto.port, stages=(Stage.RECEIVED, Stage.DELIVERED))
    before = time.time()
    summary = await play(fleet, gateway)
    # When the scenario's clock started: every press is planned from it.
    assert len(summary.scenario_started) == 1
    assert before <= summary.scenario_started[0] <= time.time()
    assert summary.alerts_sent >= 4
    assert summary.alerts_by_kind.get("emergency", 0) >= 4
    assert summary.lost == 0
    assert summary.acknowledged["received"] == summary.alerts_sent
    assert summary.latency["press_to_received"].count == summary.alerts_sent
    # The storm began at 0: every press counts with it.
    assert summary.latency["storm_press_to_received"].count == summary.alerts_sent
    assert summary.latency["nominal_press_to_received"].count == 0


async def test_a_press_due_at_the_scenarios_end_is_pressed_and_waited_for(
    mosquitto: MosquittoBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scenario's end must not outrun the scheduler: a press due just before it was
    once pressed during shutdown (or not at all), and counted as a lost alarm."""
    monkeypatch.setattr("device_sim.terminals.fleet.TICK_S", 1.5)  # the scheduler lags
    scenario = Scenario(duration_s=1.0, storm_count=1, storm_at_s=0.95, storm_window_s=0.01)
    fleet = make_fleet(mosquitto, mosquitto.terminals[:1], scenario=scenario, grace_s=10.0)
    summary = await play(fleet, GatewayDouble(mosquitto.port, stages=(Stage.RECEIVED,)))
    assert (summary.alerts_sent, summary.lost) == (1, 0)
    assert summary.acknowledged["received"] == 1


async def test_a_held_scenario_waits_for_the_go_ahead_then_its_warm_up(
    mosquitto: MosquittoBroker,
) -> None:
    """Processes of one fleet start their plans together: online is not enough."""
    scenario = Scenario(duration_s=0.5, storm_count=2, storm_at_s=0, storm_window_s=0.1)
    fleet = make_fleet(mosquitto, scenario=scenario, hold_start=True, warmup_s=0.3, grace_s=10.0)
    gateway = GatewayDouble(mosquitto.port, stages=(Stage.RECEIVED,))
    async with asyncio.TaskGroup() as tg:
        gateway_task = tg.create_task(gateway.run())
        await gateway.ready.wait()
        run = tg.create_task(fleet.run())
        async with asyncio.timeout(10):
            await fleet.wait_connected()
        await asyncio.sleep(0.5)  # well past the storm's time, had the plan begun
        assert fleet.report().scenario_started == []
        assert fleet.snapshot().alerts == 0
        released = time.time()
        fleet.release_start()
        async with asyncio.timeout(30):
            summary = await run
        await stop(gateway_task)
    assert len(summary.scenario_started) == 1
    assert summary.scenario_started[0] >= released + 0.3
    assert (summary.alerts_sent, summary.lost) == (2, 0)
