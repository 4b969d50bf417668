"""Which brokers a site runs, what each listens on, and who connects where (pure).

Two shapes:

* **single** — one Mosquitto for the whole site (the default for small sites). Terminals
  use its TLS listener (and, for on-machine simulation, an optional loopback-only plain
  listener); the gateway has a listener of its own.
* **district** — one Mosquitto per town ("zone") holding that town's terminals, each
  bridged with Mosquitto's built-in bridge to one district broker; the gateway connects to
  the district broker only. On the district broker a terminal's topics appear under its
  zone, ``ec/v1/z/{zone}/t/{id}/{channel}`` (the bridge's topic remapping), so a downlink
  published there reaches only the terminal's own town broker.

Every broker process may hold at most :data:`OPEN_FILES` descriptors (one per connection,
plus a handful of its own); the per-listener connection limits below stay inside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from gateway.errors import GatewayError

Role = Literal["terminals", "gateway", "bridges"]

ZONE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}\Z")
#: The broker a single-broker site runs, and the district broker of a district.
SITE, DISTRICT = "site", "district"

#: Open files a broker process may hold (the hard limit on this platform).
OPEN_FILES = 20_000
#: Descriptors a broker keeps for itself: listening sockets, epoll, log, persistence
#: file, the bridge and the gateway's connections.
RESERVED_FILES = 1_000
#: Terminal connections one listener accepts. A terminal holds one session (its client
#: id is forced to its username), so the sum over a broker's listeners stays below the
#: number of its accounts; the limit guards against connection floods.
TERMINAL_CONNECTIONS = OPEN_FILES - RESERVED_FILES
GATEWAY_CONNECTIONS = 64
#: Terminals one town broker is planned for: the district's 170,000 over 17 towns is
#: 10,000 each, half the descriptor budget, so a town can grow before it needs splitting.
TOWN_CAPACITY = 10_000


@dataclass(frozen=True, slots=True)
class Listener:
    """One Mosquitto listener: who it is for, where it binds, whether it speaks TLS."""

    role: Role
    port: int
    bind: str
    tls: bool
    max_connections: int = GATEWAY_CONNECTIONS


@dataclass(frozen=True, slots=True)
class Bridge:
    """A town broker's bridge to the district broker (its account there = its client id)."""

    zone: str
    address: str
    port: int

    @property
    def username(self) -> str:
        return bridge_user(self.zone)


def bridge_user(zone: str) -> str:
    """A town bridge's account (and client id) on the district broker."""
    return f"bridge-{zone}"


@dataclass(frozen=True, slots=True)
class BrokerPlan:
    name: str
    zone: str | None
    listeners: tuple[Listener, ...]
    bridge: Bridge | None = None

    def listener(self, role: Role, tls: bool | None = None) -> Listener | None:
        for item in self.listeners:
            if item.role == role and (tls is None or item.tls == tls):
                return item
        return None


@dataclass(frozen=True, slots=True)
class PortPlan:
    """Ports per broker. ``terminals_tls[i]``/``terminals_plain[i]`` belong to the i-th
    terminal broker (the single broker, or town i); no plain ports: no plain listener."""

    terminals_tls: tuple[int, ...]
    terminals_plain: tuple[int, ...] = ()
    gateway: int = 1882
    bridges: int = 8882

    @classmethod
    def consecutive(cls, brokers: int, tls: int, plain: int | None, **others: int) -> PortPlan:
        """Terminal broker ``i`` gets ``tls + i`` and ``plain + i``: all on one host.
        ``others``: ``gateway`` and ``bridges`` ports."""
        tls_ports = tuple(tls + i for i in range(brokers))
        plain_ports = () if plain is None else tuple(plain + i for i in range(brokers))
        return cls(tls_ports, plain_ports, **others)


@dataclass(frozen=True, slots=True)
class Topology:
    """The site's brokers. ``host`` is the name terminals, bridges and the gateway use
    to reach them (in certificates and in every terminal's broker URL)."""

    host: str
    brokers: tuple[BrokerPlan, ...]
    extra_names: tuple[str, ...] = field(default=())

    @property
    def bridged(self) -> bool:
        return any(b.bridge is not None for b in self.brokers)

    @property
    def gateway_broker(self) -> BrokerPlan:
        return self.brokers[0]

    def gateway_listener(self) -> Listener:
        found = self.gateway_broker.listener("gateway")
        assert found is not None  # every plan has one
        return found

    def terminal_broker(self, zone: str | None) -> BrokerPlan:
        for broker in self.brokers:
            if broker.listener("terminals") is not None and broker.zone == zone:
                return broker
        raise GatewayError(f"no broker for zone {zone!r}")

    def terminal_url(self, zone: str | None, tls: bool = True) -> str:
        """Where a terminal of ``zone`` connects: ``mqtts://host:port`` (or plain)."""
        listener = self.terminal_broker(zone).listener("terminals", tls=tls)
        if listener is None:
            raise GatewayError(f"zone {zone!r} has no {'TLS' if tls else 'plain'} listener")
        host = self.host if tls else "127.0.0.1"  # plain listeners are loopback-only
        return f"{'mqtts' if tls else 'mqtt'}://{host}:{listener.port}"

    def server_names(self) -> tuple[str, ...]:
        """Names every server certificate carries (the host, loopback, extra names)."""
        names = [self.host, *self.extra_names, "localhost", "127.0.0.1"]
        return tuple(dict.fromkeys(names))


def _terminal_listeners(index: int, ports: PortPlan, bind: str) -> tuple[Listener, ...]:
    limit = TERMINAL_CONNECTIONS
    found = [Listener("terminals", ports.terminals_tls[index], bind, True, limit)]
    if ports.terminals_plain:
        found.append(Listener("terminals", ports.terminals_plain[index], "127.0.0.1", False, limit))
    return tuple(found)


def _check(zones: Sequence[str], ports: PortPlan) -> None:
    for zone in zones:
        if not ZONE_RE.match(zone) or zone in (SITE, DISTRICT):
            raise GatewayError(
                f"invalid zone id {zone!r}: 1-32 of [A-Za-z0-9_-], not {SITE!r} or {DISTRICT!r}"
            )
    if len(set(zones)) != len(zones):
        raise GatewayError("zone ids must be distinct")
    count = max(1, len(zones))
    if len(ports.terminals_tls) < count or 0 < len(ports.terminals_plain) < count:
        raise GatewayError(f"the port plan covers fewer than {count} terminal brokers")
    used = [*ports.terminals_tls[:count], *ports.terminals_plain[:count], ports.gateway]
    if zones:
        used.append(ports.bridges)
    if len(set(used)) != len(used):
        raise GatewayError("the port plan uses a port twice")


def plan_topology(
    zones: Sequence[str],
    ports: PortPlan,
    *,
    host: str = "127.0.0.1",
    bind: str = "0.0.0.0",
    gateway_bind: str = "127.0.0.1",
    gateway_tls: bool = False,
    extra_names: Sequence[str] = (),
) -> Topology:
    """No zones: one broker. Zones: the district broker first, then one per zone.

    ``bind`` is where TLS listeners for terminals and bridges listen; plain listeners for
    terminals are loopback-only; the gateway's listener binds ``gateway_bind``.
    """
    _check(zones, ports)
    gateway = Listener("gateway", ports.gateway, gateway_bind, tls=gateway_tls)
    if not zones:
        site = BrokerPlan(SITE, None, (*_terminal_listeners(0, ports, bind), gateway))
        return Topology(host, (site,), tuple(extra_names))
    bridges = Listener(
        "bridges", ports.bridges, bind, True, max(GATEWAY_CONNECTIONS, 2 * len(zones))
    )
    district = BrokerPlan(DISTRICT, None, (gateway, bridges))
    towns = tuple(
        BrokerPlan(
            zone, zone, _terminal_listeners(i, ports, bind), Bridge(zone, host, bridges.port)
        )
        for i, zone in enumerate(zones)
    )
    return Topology(host, (district, *towns), tuple(extra_names))
