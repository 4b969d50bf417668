"""What terminals decide to send, without a broker: the outbox is only filled, never drained."""

from __future__ import annotations

import json
import random
from typing import cast

import aiomqtt
import pytest

from device_sim.terminals.backoff import FixedDelays
from device_sim.terminals.behaviour import Behaviour, Periodic, Report, Retransmit
from device_sim.terminals.credentials import Credential
from device_sim.terminals.options import FleetOptions
from device_sim.terminals.outbox import Outbox
from device_sim.terminals.terminal import Terminal
from firmware_protocol.codec import encode_ack, encode_command
from firmware_protocol.messages import Ack, AlertKind, Command, CommandName, Stage
from firmware_protocol.topics import Channel

ONLINE = cast(aiomqtt.Client, object())  # never used for I/O here: the outbox is not drained


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(options: FleetOptions | None = None) -> tuple[Behaviour, Outbox, Terminal, Clock]:
    clock = Clock()
    options = options or FleetOptions()
    terminal = Terminal(Credential("t1", "pw"), "boot", options.status_interval_s)
    outbox = Outbox(100, 1.0, lambda _t, _p: None)
    behaviour = Behaviour(
        [terminal],
        options,
        outbox,
        FixedDelays([2.0, 4.0]),
        random.Random(0),
        clock,
        lambda: None,
    )
    return behaviour, outbox, terminal, clock


def test_press_online_sends_and_schedules_a_retransmission() -> None:
    behaviour, outbox, terminal, clock = make()
    terminal.client = ONLINE
    alert_id = behaviour.press("t1", AlertKind.MEAL, clock.now)
    assert alert_id == "bboot-0001"
    assert len(outbox) == 1
    assert behaviour.timers.pop_due(clock.now + 2.0) == [Retransmit("t1", alert_id, 1)]


def test_retransmission_repeats_until_received() -> None:
    behaviour, outbox, terminal, clock = make()
    terminal.client = ONLINE
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
    assert len(outbox) == 2
    assert len(behaviour.timers) == 0


def test_offline_press_waits_for_the_introduction() -> None:
    behaviour, outbox, terminal, clock = make()
    alert_id = behaviour.press("t1", AlertKind.EMERGENCY, clock.now)
    assert len(outbox) == 0
    publications = behaviour.introduction(terminal)
    assert [p.channel for p in publications] == [Channel.STATUS, Channel.ALERT]
    assert publications[0].retain
    assert json.loads(publications[0].payload)["state"] == "online"
    assert json.loads(publications[1].payload)["alert_id"] == alert_id
    record = behaviour.book.get("t1", alert_id)
    assert record is not None
    assert record.sends == 1


def test_cancel_refers_to_the_last_help_request() -> None:
    behaviour, _, terminal, clock = make()
    terminal.client = ONLINE
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
    behaviour, outbox, terminal, clock = make(options)
    behaviour.start(clock.now)
    due = behaviour.timers.pop_due(clock.now + 20)
    assert {d.report for d in due if isinstance(d, Periodic)} == set(Report)
    for item in due:
        behaviour.dispatch(item, clock.now + 20)
    assert len(outbox) == 0  # offline: nothing sent, but every chain goes on
    assert len(behaviour.timers) == 3
    terminal.client = ONLINE
    for item in behaviour.timers.pop_due(clock.now + 60):
        behaviour.dispatch(item, clock.now + 60)
    assert len(outbox) == 3  # status, health, self-test alert


def test_config_command_restarts_the_status_chain() -> None:
    behaviour, outbox, terminal, clock = make()
    terminal.client = ONLINE
    behaviour.start(clock.now)
    command = Command("c1", CommandName.CONFIG, 1.0, {"status_interval_s": 5})
    behaviour.received(terminal, "ec/v1/t/t1/cmd", encode_command(command))
    assert terminal.status_interval_s == 5
    due = behaviour.timers.pop_due(clock.now + 100)
    assert Periodic("t1", Report.STATUS, 1) in due
    for item in due:
        behaviour.dispatch(item, clock.now + 100)
    assert len(outbox) == 1  # the old chain (generation 0) ended silently
