"""What terminals decide to send, without a broker: publications land on a recording wire."""

from __future__ import annotations

import json
import random
from typing import cast

import pytest

from device_sim.terminals.backoff import FixedDelays
from device_sim.terminals.behaviour import Behaviour, Periodic, Report, Retransmit
from device_sim.terminals.credentials import Credential
from device_sim.terminals.options import Endpoint, FleetOptions
from device_sim.terminals.scenario import Press
from device_sim.terminals.terminal import Publication, Terminal
from device_sim.terminals.uplink import Uplink
from firmware_protocol.codec import encode_ack, encode_command
from firmware_protocol.messages import Ack, AlertKind, Command, CommandName, Stage
from firmware_protocol.mqtt import MqttConnection, State
from firmware_protocol.topics import Channel


class Wire:
    """Stands in for a terminal's open connection: records every publication written."""

    state = State.OPEN

    def __init__(self) -> None:
        self.published: list[Publication] = []

    def __len__(self) -> int:
        return len(self.published)

    def publish(self, topic: str, payload: bytes, *, retain: bool, token: object) -> bool:
        assert isinstance(token, Publication)
        assert topic.endswith(token.channel.value)
        self.published.append(token)
        return True

    def attach(self, terminal: Terminal) -> None:
        """The terminal is online on this wire."""
        terminal.conn = cast(MqttConnection, self)
        terminal.online = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(options: FleetOptions | None = None) -> tuple[Behaviour, Wire, Terminal, Clock]:
    clock = Clock()
    options = options or FleetOptions()
    endpoint = Endpoint("127.0.0.1", 1883)
    terminal = Terminal(Credential("t1", "pw"), endpoint, "boot", options.status_interval_s)
    behaviour = Behaviour(
        [terminal],
        options,
        Uplink(),
        FixedDelays([2.0, 4.0]),
        random.Random(0),
        clock,
        lambda: None,
    )
    return behaviour, Wire(), terminal, clock


def test_press_online_sends_and_schedules_a_retransmission() -> None:
    behaviour, wire, terminal, clock = make()
    wire.attach(terminal)
    alert_id = behaviour.press("t1", AlertKind.MEAL, clock.now)
    assert alert_id == "bboot-0001"
    assert len(wire) == 1
    assert behaviour.timers.pop_due(clock.now + 2.0) == [Retransmit("t1", alert_id, 1)]


def test_retransmission_repeats_until_received() -> None:
    behaviour, wire, terminal, clock = make()
    wire.attach(terminal)
    alert_id = behaviour.press("t1", AlertKind.MEAL, clock.now)
    behaviour.dispatch(Retransmit("t1", alert_id, 1), clock.now + 2)
    record = behaviour.book.get("t1", alert_id)
    assert record is not None
    assert record.sends == 2
    assert behaviour.counters.retransmissions == 1
    assert behaviour.timers.pop_due(clock.now + 6) != []  # the next one, 4 s later
    behaviour.received(terminal, "ec/v1/t/t1/ack", encode_ack(Ack(alert_id, Stage.RECEIVED, 1.0)))
    behaviour.dispatch(Retransmit("t1", alert_id, 2), clock.now + 6)
    assert record.sends == 2
    assert len(wire) == 2
    assert len(behaviour.timers) == 0


def test_offline_press_waits_for_the_introduction() -> None:
    behaviour, wire, terminal, clock = make()
    alert_id = behaviour.press("t1", AlertKind.EMERGENCY, clock.now)
    assert len(wire) == 0
    publications = behaviour.introduction(terminal)
    assert [p.channel for p in publications] == [Channel.STATUS, Channel.ALERT]
    assert publications[0].retain
    assert json.loads(publications[0].payload)["state"] == "online"
    assert json.loads(publications[1].payload)["alert_id"] == alert_id
    record = behaviour.book.get("t1", alert_id)
    assert record is not None
    assert record.sends == 1


def test_cancel_refers_to_the_last_help_request() -> None:
    behaviour, wire, terminal, clock = make()
    wire.attach(terminal)
    with pytest.raises(ValueError, match="no help request"):
        behaviour.press("t1", AlertKind.CANCEL, clock.now)
    help_id = behaviour.press("t1", AlertKind.NURSING, clock.now)
    cancel_id = behaviour.press("t1", AlertKind.CANCEL, clock.now)
    cancel = behaviour.book.get("t1", cancel_id)
    assert cancel is not None
    assert json.loads(cancel.payload)["cancels"] == help_id


def test_unknown_terminal_is_named() -> None:
    behaviour, _, _, clock = make()
    with pytest.raises(KeyError, match="t9"):
        behaviour.press("t9", AlertKind.MEAL, clock.now)


def test_periodic_reports_are_spread_and_only_sent_online() -> None:
    options = FleetOptions(status_interval_s=10, health_interval_s=5, self_test_interval_s=20)
    behaviour, wire, terminal, clock = make(options)
    behaviour.start(clock.now)
    due = behaviour.timers.pop_due(clock.now + 20)
    assert {d.report for d in due if isinstance(d, Periodic)} == set(Report)
    for item in due:
        behaviour.dispatch(item, clock.now + 20)
    assert len(wire) == 0  # offline: nothing sent, but every chain goes on
    assert len(behaviour.timers) == 3
    wire.attach(terminal)
    for item in behaviour.timers.pop_due(clock.now + 60):
        behaviour.dispatch(item, clock.now + 60)
    assert len(wire) == 3  # status, health, self-test alert


def test_config_command_restarts_the_status_chain() -> None:
    behaviour, wire, terminal, clock = make()
    wire.attach(terminal)
    behaviour.start(clock.now)
    command = Command("c1", CommandName.CONFIG, 1.0, {"status_interval_s": 5})
    behaviour.received(terminal, "ec/v1/t/t1/cmd", encode_command(command))
    assert terminal.status_interval_s == 5
    due = behaviour.timers.pop_due(clock.now + 100)
    assert Periodic("t1", Report.STATUS, 1) in due
    for item in due:
        behaviour.dispatch(item, clock.now + 100)
    assert len(wire) == 1  # the old chain (generation 0) ended silently


def test_a_storm_press_is_marked_as_such() -> None:
    behaviour, wire, terminal, clock = make()
    wire.attach(terminal)
    behaviour.dispatch(Press("t1", AlertKind.EMERGENCY, storm=True), clock.now)
    behaviour.dispatch(Press("t1", AlertKind.MEAL), clock.now)
    assert [r.storm for r in behaviour.book.of("t1")] == [True, False]
    assert len(wire) == 2
