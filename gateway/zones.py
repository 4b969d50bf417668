"""Where a terminal's topics are on the gateway's broker.

On a single broker they are the protocol's own, ``ec/v1/t/{id}/{channel}``. On a district
broker each town's bridge inserts the town's zone, ``ec/v1/z/{zone}/t/{id}/{channel}``:
uplinks arrive with it, and a downlink published under a zone crosses only that town's
bridge. Terminals never see the zone; it exists on the district broker only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from firmware_protocol.topics import PREFIX, UPLINK, Channel, topic
from gateway.errors import RegistryError
from gateway.registry import Terminal
from gateway.topology import ZONE_RE

ZONE_ROOT = "ec/v1/z/"
#: Mosquitto's own count of messages it dropped for full queues ($SYS, every 10 s).
DROPPED = "$SYS/broker/publish/messages/dropped"


class Publisher(Protocol):
    """What publishes downlinks (an ``aiomqtt.Client``, or the gateway's link)."""

    async def publish(self, topic: str, payload: bytes, qos: int) -> None: ...


class Unroutable(LookupError):
    """A downlink for a terminal whose zone is not known (not in the registry)."""


def zone_prefix(zone: str) -> str:
    """Where a zone's terminal topics live on the district broker."""
    return f"{ZONE_ROOT}{zone}/"


def bridge_state_topic(zone: str) -> str:
    """Retained ``1``/``0``: a town bridge's state, published by the bridge itself."""
    return f"{ZONE_ROOT}{zone}/bridge"


def bridge_dropped_topic(zone: str) -> str:
    """A town broker's :data:`DROPPED` count, carried over its bridge."""
    return f"{ZONE_ROOT}{zone}/broker/dropped"


def uplink_filters(
    bridged: bool, share_group: str | None = None, channels: Iterable[Channel] = UPLINK,
    zone: str | None = None,
) -> list[str]:  # fmt: skip
    """Subscriptions for every terminal's uplink ``channels`` (of one ``zone``, or all),
    optionally MQTT 5 shared."""
    base = f"{ZONE_ROOT}{zone or '+'}/t/+" if bridged else f"{PREFIX}/+"
    found = [f"{base}/{channel.value}" for channel in sorted(channels)]
    return [f"$share/{share_group}/{f}" if share_group else f for f in found]


def monitor_filters(bridged: bool) -> list[str]:
    """The brokers' own state: drop counts and, in a district, each bridge's state."""
    if not bridged:
        return [DROPPED]
    return [DROPPED, bridge_state_topic("+"), bridge_dropped_topic("+")]


def split_zone(name: str) -> tuple[str | None, str]:
    """``ec/v1/z/{zone}/t/…`` → (zone, ``ec/v1/t/…``); any other topic → (None, topic).

    A zone that is not a valid zone id is left in place, so the protocol's topic check
    rejects the message as ``bad_topic``.
    """
    if not name.startswith(ZONE_ROOT):
        return None, name
    zone, sep, rest = name[len(ZONE_ROOT) :].partition("/")
    if not sep or not ZONE_RE.match(zone) or not rest.startswith("t/"):
        return None, name
    return zone, f"ec/v1/{rest}"


class Downlinks:
    """Downlink topics (acks, commands) for terminals, by the zone the registry gives."""

    def __init__(self, registry: Mapping[str, Terminal], bridged: bool) -> None:
        self._registry = registry
        self._bridged = bridged

    def route(self, terminal_id: str, channel: Channel) -> tuple[str | None, str]:
        """(zone, topic) of a downlink; the zone is ``None`` on a single broker."""
        plain = topic(terminal_id, channel)
        if not self._bridged:
            return None, plain
        terminal = self._registry.get(terminal_id)
        if terminal is None or terminal.zone is None:
            raise Unroutable(f"terminal {terminal_id!r} has no zone in the registry")
        return terminal.zone, f"{ZONE_ROOT}{terminal.zone}/{plain[len('ec/v1/') :]}"

    def topic(self, terminal_id: str, channel: Channel) -> str:
        return self.route(terminal_id, channel)[1]


def check_zones(terminals: Iterable[Terminal], bridged: bool) -> None:
    """A bridged site needs a zone on every terminal; a single broker on none."""
    for terminal in terminals:
        if bridged and terminal.zone is None:
            raise RegistryError(
                f"terminal {terminal.terminal_id} has no zone, but mqtt.bridged is true"
            )
        if not bridged and terminal.zone is not None:
            raise RegistryError(
                f"terminal {terminal.terminal_id} has zone {terminal.zone!r}, but mqtt.bridged "
                "is false: set it for a district of bridged town brokers"
            )
