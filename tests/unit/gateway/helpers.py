"""Small shared helpers for the gateway's unit tests: a fake clock and metric readings."""

from __future__ import annotations

from prometheus_client import REGISTRY

from gateway.registry import Registry, Terminal

T0 = 1_764_000_000.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def sample(name: str, **labels: str) -> float:
    """Current value of one metric sample of the default registry (0 when never set)."""
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


def terminal(terminal_id: str = "T0001", town: str = "TownA", village: str = "V1") -> Terminal:
    return Terminal(terminal_id, f"Elder {terminal_id}", ("District", town, village), "13800000000")


def registry(*ids: str) -> Registry:
    return Registry(terminal(t) for t in (ids or ("T0001",)))
