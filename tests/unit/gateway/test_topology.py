"""Topology planning: which brokers, which listeners, which ports, who connects where."""

from __future__ import annotations

import pytest

from gateway.errors import GatewayError
from gateway.topology import (
    OPEN_FILES,
    TERMINAL_CONNECTIONS,
    PortPlan,
    plan_topology,
)


def test_no_zones_is_one_broker_with_its_own_gateway_listener() -> None:
    topology = plan_topology([], PortPlan.consecutive(1, 8883, 1883), host="gw.example")

    assert not topology.bridged
    (site,) = topology.brokers
    assert [(x.role, x.port, x.bind, x.tls) for x in site.listeners] == [
        ("terminals", 8883, "0.0.0.0", True),
        ("terminals", 1883, "127.0.0.1", False),
        ("gateway", 1882, "127.0.0.1", False),
    ]
    assert topology.terminal_url(None) == "mqtts://gw.example:8883"
    assert topology.terminal_url(None, tls=False) == "mqtt://127.0.0.1:1883"
    assert topology.gateway_listener().port == 1882


def test_zones_make_a_district_broker_and_one_bridged_broker_per_town() -> None:
    ports = PortPlan.consecutive(3, 9000, None, gateway=9100, bridges=9200)
    topology = plan_topology(["a", "b", "c"], ports, host="10.0.0.5")

    assert topology.bridged
    district, *towns = topology.brokers
    assert district.name == "district"
    assert [x.role for x in district.listeners] == ["gateway", "bridges"]
    assert [t.zone for t in towns] == ["a", "b", "c"]
    assert [topology.terminal_url(z) for z in "abc"] == [
        "mqtts://10.0.0.5:9000", "mqtts://10.0.0.5:9001", "mqtts://10.0.0.5:9002",
    ]  # fmt: skip
    assert all(t.bridge is not None and t.bridge.port == 9200 for t in towns)
    assert towns[1].bridge is not None
    assert towns[1].bridge.username == "bridge-b"
    assert all(t.listener("terminals", tls=False) is None for t in towns)  # plain: off
    assert "10.0.0.5" in topology.server_names()
    assert "127.0.0.1" in topology.server_names()


def test_a_terminal_listener_never_exceeds_the_open_file_budget() -> None:
    topology = plan_topology(["a"], PortPlan.consecutive(1, 9000, 9500))

    limits = [x.max_connections for b in topology.brokers for x in b.listeners]
    assert max(limits) == TERMINAL_CONNECTIONS < OPEN_FILES


@pytest.mark.parametrize(
    ("zones", "ports", "message"),
    [
        (["a b"], PortPlan((1,)), "invalid zone id"),
        (["district"], PortPlan((1,)), "invalid zone id"),
        (["x" * 33], PortPlan((1,)), "invalid zone id"),
        (["a", "a"], PortPlan((1, 2)), "distinct"),
        (["a", "b"], PortPlan((1,)), "fewer than 2"),
        ([], PortPlan((1882,)), "twice"),
        (["a", "b"], PortPlan((1, 2), bridges=2), "twice"),
    ],
)
def test_a_bad_plan_is_refused_with_the_reason(
    zones: list[str], ports: PortPlan, message: str
) -> None:
    with pytest.raises(GatewayError, match=message):
        plan_topology(zones, ports)


def test_an_unknown_zone_has_no_broker() -> None:
    topology = plan_topology(["a"], PortPlan((9000,)))

    with pytest.raises(GatewayError, match="no broker for zone 'b'"):
        topology.terminal_url("b")
