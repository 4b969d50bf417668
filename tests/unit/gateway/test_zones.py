"""Zones: where a terminal's topics are on a district broker, and back."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from firmware_protocol.topics import Channel, parse_topic, topic
from gateway.errors import RegistryError
from gateway.registry import Registry
from gateway.zones import Downlinks, Unroutable, check_zones, split_zone, uplink_filters
from tests.unit.gateway.helpers import terminal

IDS = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
ZONES = st.from_regex(r"[A-Za-z0-9_-]{1,32}", fullmatch=True)


def test_filters_for_one_broker_and_for_a_district() -> None:
    assert uplink_filters(False) == ["ec/v1/t/+/alert", "ec/v1/t/+/health", "ec/v1/t/+/status"]
    assert uplink_filters(True, "gw", [Channel.ALERT]) == ["$share/gw/ec/v1/z/+/t/+/alert"]


@given(terminal_id=IDS, zone=ZONES, channel=st.sampled_from(list(Channel)))
def test_a_downlink_under_a_zone_splits_back_to_the_terminals_own_topic(
    terminal_id: str, zone: str, channel: Channel
) -> None:
    registry = Registry([replace(terminal(terminal_id), zone=zone)])

    name = Downlinks(registry, bridged=True).topic(terminal_id, channel)

    assert name.startswith(f"ec/v1/z/{zone}/t/{terminal_id}/")
    assert split_zone(name) == (zone, topic(terminal_id, channel))
    assert parse_topic(split_zone(name)[1]) == (terminal_id, channel)


@pytest.mark.parametrize(
    "name",
    ["ec/v1/t/T1/alert", "ec/v1/z/a b/t/T1/alert", "ec/v1/z/zone", "ec/v1/z/z1/x/T1/alert",
     "ec/v1/z//t/T1/alert"],
)  # fmt: skip
def test_anything_else_is_left_as_it_is(name: str) -> None:
    assert split_zone(name) == (None, name)


def test_a_single_broker_needs_no_registry_and_a_district_needs_the_zone() -> None:
    zoned = Registry([replace(terminal("T1"), zone="north"), terminal("T2")])

    assert Downlinks({}, bridged=False).topic("T9", Channel.ACK) == "ec/v1/t/T9/ack"
    assert Downlinks(zoned, bridged=True).topic("T1", Channel.CMD) == "ec/v1/z/north/t/T1/cmd"
    for missing in ("T2", "T9"):
        with pytest.raises(Unroutable):
            Downlinks(zoned, bridged=True).topic(missing, Channel.ACK)


def test_zones_must_match_the_topology() -> None:
    plain, zoned = terminal("T1"), replace(terminal("T2"), zone="north")

    check_zones([plain], bridged=False)
    check_zones([zoned], bridged=True)
    with pytest.raises(RegistryError, match=r"T1 has no zone, but mqtt\.bridged is true"):
        check_zones([zoned, plain], bridged=True)
    with pytest.raises(RegistryError, match=r"T2 has zone .north., but mqtt\.bridged is false"):
        check_zones([zoned], bridged=False)
