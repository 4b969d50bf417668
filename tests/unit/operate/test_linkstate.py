"""A broker link's health: why it is down, counted per attempt, logged once per reason."""

from __future__ import annotations

import logging

import pytest
from aiomqtt import MqttError
from aiomqtt.exceptions import MqttConnectError

from gateway.linkstate import LinkState, reason_of
from tests.unit.gateway.helpers import sample


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (MqttConnectError(5), "not_authorized"),
        (MqttConnectError(4), "not_authorized"),
        (MqttConnectError(3), "refused"),
        (MqttError("[Errno 111] Connect call failed ('127.0.0.1', 1)"), "unreachable"),
        (MqttError("Disconnected during message iteration"), "lost"),
    ],
)
def test_reasons(error: Exception, reason: str) -> None:
    assert reason_of(error) == reason


def test_a_refused_password_is_logged_once_and_counted_each_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = LinkState("test-link", "127.0.0.1:1")
    labels = {"link": "test-link", "reason": "not_authorized"}
    before = sample("gateway_mqtt_connect_failures_total", **labels)

    with caplog.at_level(logging.INFO, logger="gateway.linkstate"):
        for _ in range(5):
            state.down(MqttConnectError(5))
        state.up()

    assert sample("gateway_mqtt_connect_failures_total", **labels) == before + 5
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "refuses the gateway's user name or password" in messages[0]
    assert "up again" in messages[1]
    assert caplog.records[0].levelno == logging.ERROR
    assert state.to_json()["ok"] is True
    assert sample("gateway_mqtt_connected", link="test-link") == 1
