"""A small provisioned site for tests: registry, credentials and broker files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from device_sim.procs import free_port
from gateway.broker import write_broker_files
from gateway.config import GatewayConfig, parse_config
from gateway.provision import demo_district, new_password, write_credentials, write_registry
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
    passwords = {t.terminal_id: new_password() for t in terminals}
    passwords[UNREGISTERED] = new_password()
    gateway_password = new_password()
    write_registry(root / "terminals.csv", terminals)
    write_credentials(root / "credentials.csv", [(k, v) for k, v in passwords.items()
                                                 if k != UNREGISTERED])  # fmt: skip
    port = free_port()
    files = write_broker_files(
        root / "broker", [*passwords.items(), (GATEWAY_USER, gateway_password)], GATEWAY_USER,
        port=port, persistence=False,
    )  # fmt: skip
    return Site(root, terminals, passwords, gateway_password, port, files.conf)
