"""How a fleet connects and behaves; validated once, errors name the option."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from device_sim.terminals.scenario import Scenario
from firmware_protocol.messages import Stage


def _require(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{name}: {message}")


#: URL schemes of a terminal's broker and their default ports.
SCHEMES = {"mqtt": 1883, "mqtts": 8883}


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One broker's address; ``tls`` for ``mqtts://``."""

    host: str
    port: int
    tls: bool = False

    def __post_init__(self) -> None:
        _require(bool(self.host), "host", "must not be empty")
        _require(0 < self.port < 65536, "port", "must be in 1..65535")

    @property
    def url(self) -> str:
        """``mqtt://HOST:PORT`` or ``mqtts://HOST:PORT``."""
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker_url(text: str) -> Endpoint:
    """``mqtt://HOST:PORT`` or ``mqtts://HOST:PORT`` (port defaults 1883 / 8883)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"broker URL {text!r}: {exc}") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(f"broker URL {text!r}: use mqtt://HOST:PORT or mqtts://HOST:PORT")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"broker URL {text!r}: only scheme, host and port are allowed")
    return Endpoint(parts.hostname, port or SCHEMES[parts.scheme], parts.scheme == "mqtts")


@dataclass(frozen=True, slots=True)
class Broker:
    """How the terminals connect; ``host``/``port``/``tls`` serve terminals without a broker URL.

    ``ca_file`` is the site CA that broker certificates are verified against (TLS 1.2+,
    the host name of the URL checked against the certificate).
    """

    host: str = "127.0.0.1"
    port: int = 1883
    mqtt5: bool = False
    keepalive_s: int = 60
    tls: bool = False
    ca_file: Path | None = None

    def __post_init__(self) -> None:
        _require(0 < self.port < 65536, "port", "must be in 1..65535")
        _require(5 <= self.keepalive_s <= 65535, "keepalive_s", "must be in 5..65535")
        _require(not self.tls or self.ca_file is not None, "ca_file", "TLS needs the site CA")

    @property
    def endpoint(self) -> Endpoint:
        """The default broker."""
        return Endpoint(self.host, self.port, self.tls)


@dataclass(frozen=True, slots=True)
class FleetOptions:
    """Per-terminal behaviour, fleet limits and the optional scenario."""

    status_interval_s: float = 60.0
    health_interval_s: float = 0.0  # 0: no periodic health reports
    dangerous_fraction: float = 0.0  # share of periodic health reports with dangerous vitals
    self_test_interval_s: float = 0.0  # 0: no periodic self-test alerts
    firmware: str = "sim-1.0.0"
    connect_concurrency: int = 200  # connection attempts in flight
    connect_rate: float = 0.0  # connection attempts started per second (0: no pacing)
    connect_attempt_s: float = 30.0  # one attempt: TCP, TLS, CONNACK and SUBACK
    offline_for_s: float = 10.0  # default time away after drop()
    connect_timeout_s: float = 120.0  # a scenario starts when all are online, or after this
    hold_start: bool = False  # ... and then only after Fleet.release_start() (or the timeout)
    warmup_s: float = 0.0  # ... and then this much later (the fleet's "online" burst passes)
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
        _require(self.connect_rate >= 0, "connect_rate", "must be >= 0 (0 = no pacing)")
        _require(self.connect_attempt_s > 0, "connect_attempt_s", "must be > 0")
        _require(self.offline_for_s >= 0, "offline_for_s", "must be >= 0")
        _require(self.connect_timeout_s >= 0, "connect_timeout_s", "must be >= 0")
        _require(self.warmup_s >= 0, "warmup_s", "must be >= 0")
        _require(self.grace_s >= 0, "grace_s", "must be >= 0")
