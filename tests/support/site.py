"""A small provisioned site for tests: registry, credentials and broker files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from device_sim.procs import free_port
from gateway.config import GatewayConfig, parse_config
from gateway.provision import demo_district, provision_site
from gateway.registry import Terminal

#: Has a broker account but is not in the gateway's registry.
UNREGISTERED = "X999999"
GATEWAY_USER = "gateway"


@dataclass(frozen=True)
class Site:
    root: Path
    terminals: list[Terminal]
    passwords: dict[str, str]
    gateway_password: str
    broker_port: int
    broker_conf: Path

    @property
    def registry_path(self) -> Path:
        return self.root / "terminals.csv"

    @property
    def credentials_path(self) -> Path:
        return self.root / "credentials.csv"

    def config(self, **sections: dict[str, object]) -> GatewayConfig:
        """A gateway config for this site; ``sections`` override/extend the defaults."""
        doc: dict[str, dict[str, object]] = {
            "mqtt": {"port": self.broker_port, "username": GATEWAY_USER,
                     "password": self.gateway_password, "client_id": f"gw-{self.broker_port}"},
            "registry": {"path": str(self.registry_path)},
            "store": {"path": str(self.root / "gateway.db"), "synchronous": "NORMAL"},
            "http": {"port": 0},
            "supervision": {"sweep_interval_s": 0.2},
        }  # fmt: skip
        for name, values in sections.items():
            doc.setdefault(name, {}).update(values)
        return parse_config(doc, {})


def make_site(root: Path, count: int = 20) -> Site:
    terminals = demo_district(count, towns=2, villages_per_town=2)
    port = free_port()
    site = provision_site(
        root, terminals, broker_port=port, gateway_user=GATEWAY_USER, persistence=False,
        broker_only=[UNREGISTERED],
    )  # fmt: skip
    return Site(root, terminals, site.passwords, site.gateway_password, port, site.broker.conf)
