"""The gateway's broker sessions: which subscriptions each holds, who carries downlinks."""

from __future__ import annotations

from firmware_protocol.topics import TERMINAL_ID_RE
from gateway.config import MqttConfig
from gateway.intake.link import lanes_for


def test_a_single_broker_keeps_alarms_and_telemetry_in_separate_sessions() -> None:
    alerts, telemetry = lanes_for(MqttConfig(client_id="gw-1"))

    assert (alerts.client_id, alerts.filters, alerts.downlinks) == (
        "gw-1", ("ec/v1/t/+/alert",), True,
    )  # fmt: skip
    assert telemetry.client_id == "gw-1.telemetry"
    assert telemetry.filters == (
        "ec/v1/t/+/health", "ec/v1/t/+/status", "$SYS/broker/publish/messages/dropped",
    )  # fmt: skip
    assert not telemetry.downlinks


def test_a_district_gives_every_town_its_own_sessions() -> None:
    lanes = lanes_for(MqttConfig(client_id="gw-1", bridged=True), ["north", "south"])

    by_name = {lane.name: lane for lane in lanes}
    assert sorted(by_name) == [
        "alerts-north", "alerts-south", "monitor", "telemetry-north", "telemetry-south",
    ]  # fmt: skip
    assert by_name["alerts-south"].filters == ("ec/v1/z/south/t/+/alert",)
    assert by_name["alerts-south"].downlinks
    assert by_name["telemetry-north"].filters == (
        "ec/v1/z/north/t/+/health", "ec/v1/z/north/t/+/status",
    )  # fmt: skip
    assert "ec/v1/z/+/bridge" in by_name["monitor"].filters
    # No terminal id can equal any of the gateway's client ids but the configured one.
    assert all(not TERMINAL_ID_RE.match(lane.client_id) for lane in lanes)
    assert len({lane.client_id for lane in lanes}) == len(lanes)


def test_shared_subscriptions_apply_to_every_uplink_session() -> None:
    cfg = MqttConfig(client_id="gw-a", share_group="gw", bridged=True)

    lanes = lanes_for(cfg, ["north"])

    uplink = [f for lane in lanes if lane.name != "monitor" for f in lane.filters]
    assert all(f.startswith("$share/gw/ec/v1/z/north/") for f in uplink)
