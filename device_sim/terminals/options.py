"""How a fleet connects and behaves; validated once, errors name the option."""

from __future__ import annotations

from dataclasses import dataclass

from device_sim.terminals.scenario import Scenario
from firmware_protocol.messages import Stage


def _require(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{name}: {message}")


@dataclass(frozen=True, slots=True)
class Broker:
    """Where the terminals connect."""

    host: str = "127.0.0.1"
    port: int = 1883
    mqtt5: bool = False
    keepalive_s: int = 60

    def __post_init__(self) -> None:
        _require(0 < self.port < 65536, "port", "must be in 1..65535")
        _require(5 <= self.keepalive_s <= 65535, "keepalive_s", "must be in 5..65535")


@dataclass(frozen=True, slots=True)
class FleetOptions:
    """Per-terminal behaviour, fleet limits and the optional scenario."""

    status_interval_s: float = 60.0
    health_interval_s: float = 0.0  # 0: no periodic health reports
    dangerous_fraction: float = 0.0  # share of periodic health reports with dangerous vitals
    self_test_interval_s: float = 0.0  # 0: no periodic self-test alerts
    firmware: str = "sim-1.0.0"
    connect_concurrency: int = 200  # connection attempts in flight
    publishers: int = 64  # tasks draining the outbox
    outbox_size: int = 20_000  # publications waiting; beyond that they are dropped (counted)
    publish_timeout_s: float = 10.0
    offline_for_s: float = 10.0  # default time away after drop()
    connect_timeout_s: float = 120.0  # a scenario starts when all are online, or after this
    grace_s: float = 10.0  # after the scenario: wait this long for outstanding acks
    settle_stage: Stage = Stage.RECEIVED  # the grace wait ends when every alert reached it
    seed: int | None = None
    scenario: Scenario | None = None

    def __post_init__(self) -> None:
        _require(self.status_interval_s > 0, "status_interval_s", "must be > 0")
        _require(self.health_interval_s >= 0, "health_interval_s", "must be >= 0 (0 = off)")
        _require(0 <= self.dangerous_fraction <= 1, "dangerous_fraction", "must be in [0, 1]")
        _require(self.self_test_interval_s >= 0, "self_test_interval_s", "must be >= 0")
        _require(0 < len(self.firmware) <= 32, "firmware", "must be 1..32 characters")
        _require(self.connect_concurrency >= 1, "connect_concurrency", "must be >= 1")
        _require(self.publishers >= 1, "publishers", "must be >= 1")
        _require(self.outbox_size >= 1, "outbox_size", "must be >= 1")
        _require(self.publish_timeout_s > 0, "publish_timeout_s", "must be > 0")
        _require(self.offline_for_s >= 0, "offline_for_s", "must be >= 0")
        _require(self.connect_timeout_s >= 0, "connect_timeout_s", "must be >= 0")
        _require(self.grace_s >= 0, "grace_s", "must be >= 0")
