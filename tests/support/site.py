"""Small provisioned sites for tests: registry, credentials, certificates, broker files.

:func:`make_site` is a single-broker site; :func:`make_district` a district of town
brokers bridged to a district broker. Ports are free loopback ports picked per test.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from device_sim.procs import free_port
from gateway.config import GatewayConfig, parse_config
from gateway.provision import Site as Provisioned
from gateway.provision import demo_district, provision_site
from gateway.registry import Terminal
from gateway.topology import PortPlan

#: Has a broker account but is not in the gateway's registry.
UNREGISTERED = "X999999"
GATEWAY_USER = "gateway"


@dataclass(frozen=True)
class Site:
    root: Path
    provisioned: Provisioned

    @property
    def terminals(self) -> list[Terminal]:
        return self.provisioned.terminals

    @property
    def passwords(self) -> dict[str, str]:
        return self.provisioned.passwords

    @property
    def gateway_password(self) -> str:
        return self.provisioned.gateway_password

    @property
    def ca_file(self) -> Path:
        return self.provisioned.ca_file

    def terminal_port(self, zone: str | None = None, tls: bool = False) -> int:
        broker = self.provisioned.topology.terminal_broker(zone)
        listener = broker.listener("terminals", tls=tls)
        assert listener is not None
        return listener.port

    def zone_of(self, terminal_id: str) -> str | None:
        return next(t.zone for t in self.terminals if t.terminal_id == terminal_id)

    @property
    def broker_port(self) -> int:
        """The single broker's plain (loopback) listener for terminals."""
        return self.terminal_port()

    @property
    def tls_port(self) -> int:
        return self.terminal_port(tls=True)

    @property
    def gateway_port(self) -> int:
        return self.provisioned.topology.gateway_listener().port

    @property
    def broker_conf(self) -> Path:
        return self.provisioned.broker_dir(self.provisioned.topology.gateway_broker.name).conf

    @property
    def registry_path(self) -> Path:
        return self.root / "terminals.csv"

    @property
    def credentials_path(self) -> Path:
        return self.root / "credentials.csv"

    def config(self, **sections: dict[str, object]) -> GatewayConfig:
        """A gateway config for this site; ``sections`` override/extend the defaults."""
        doc: dict[str, dict[str, object]] = {
            "mqtt": {"port": self.gateway_port, "username": GATEWAY_USER,
                     "password": self.gateway_password, "client_id": f"gw-{self.gateway_port}",
                     "bridged": self.provisioned.topology.bridged},
            "registry": {"path": str(self.registry_path)},
            "store": {"path": str(self.root / "gateway.db"), "synchronous": "NORMAL"},
            "http": {"port": 0},
            "supervision": {"sweep_interval_s": 0.2},
        }  # fmt: skip
        for name, values in sections.items():
            doc.setdefault(name, {}).update(values)
        return parse_config(doc, {})


def free_ports(brokers: int) -> PortPlan:
    return PortPlan(
        tuple(free_port() for _ in range(brokers)), tuple(free_port() for _ in range(brokers)),
        gateway=free_port(), bridges=free_port(),
    )  # fmt: skip


def _provision(root: Path, terminals: Sequence[Terminal], brokers: int, **options: object) -> Site:
    provisioned = provision_site(
        root, terminals, free_ports(brokers), gateway_user=GATEWAY_USER,
        persistence=False, broker_only=[UNREGISTERED], **options,  # type: ignore[arg-type]
    )  # fmt: skip
    return Site(root, provisioned)


def make_site(root: Path, count: int = 20, **options: object) -> Site:
    """One broker: terminals on its TLS and loopback listeners, the gateway on its own."""
    return _provision(root, demo_district(count, towns=2, villages_per_town=2), 1, **options)


def make_district(root: Path, towns: int = 2, count: int = 20, **options: object) -> Site:
    """``towns`` town brokers (zones ``town1``…) bridged to one district broker."""
    terminals = demo_district(count, towns=towns, villages_per_town=2)
    zones = {
        town: f"town{n + 1}" for n, town in enumerate(dict.fromkeys(t.region[1] for t in terminals))
    }
    zoned = [replace(t, zone=zones[t.region[1]]) for t in terminals]
    return _provision(root, zoned, towns, **options)
