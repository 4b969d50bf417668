"""Farm settings and fault scenarios, validated once at start.

Unknown keys and out-of-range values fail with the key's name. A scenario file
sets faults at start and on a schedule::

    [faults]                 # at start
    cam-003 = "frozen"

    [[schedule]]             # seconds after the farm is ready
    at = 10
    camera = "cam-001"
    fault = "stall"
    duration = 20            # optional: cleared again after 20 s
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from device_sim.cameras.faults import Fault, parse_fault

DEFAULT_CACHE_DIR = Path("var/cache/cameras")
T = TypeVar("T", bound=BaseModel)


class ConfigError(ValueError):
    """Settings or a scenario file that cannot be used; the message names the key."""


def _fault(value: Any) -> Any:
    return parse_fault(value) if isinstance(value, str) else value


FaultName = Annotated[Fault, BeforeValidator(_fault)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class ScheduledFault(_Strict):
    """Set ``fault`` on ``camera`` ``at`` seconds after start, for ``duration`` seconds."""

    at: float = Field(ge=0, description="seconds after the farm is ready")
    camera: str = Field(description="camera id, e.g. cam-001")
    fault: FaultName = Field(description="fault name; 'none' clears")
    duration: float | None = Field(default=None, gt=0, description="clear after this long")


class Scenario(_Strict):
    """Faults at start and a schedule of fault changes."""

    faults: dict[str, FaultName] = Field(default_factory=dict)
    schedule: tuple[ScheduledFault, ...] = ()

    def timeline(self) -> list[tuple[float, str, Fault]]:
        """``(seconds after start, camera id, fault)`` in time order, clears included."""
        events: list[tuple[float, str, Fault]] = []
        for item in self.schedule:
            events.append((item.at, item.camera, item.fault))
            if item.duration is not None:
                events.append((item.at + item.duration, item.camera, Fault.NONE))
        return sorted(events, key=lambda event: event[0])

    def camera_ids(self) -> set[str]:
        """Every camera the scenario names."""
        return set(self.faults) | {item.camera for item in self.schedule}


class FarmConfig(_Strict):
    """Everything a camera farm needs to start."""

    count: int = Field(default=8, ge=1, le=4096, description="number of cameras")
    per_facility: int = Field(default=1, ge=1, description="cameras per facility")
    host: str = Field(default="127.0.0.1", min_length=1, description="address to bind")
    base_port: int = Field(default=8601, ge=0, le=65535, description="0 picks free ports")
    control_port: int | None = Field(default=8600, ge=0, le=65535, description="None: no HTTP")
    width: int = Field(default=640, ge=64, le=1920, multiple_of=2)
    height: int = Field(default=360, ge=64, le=1080, multiple_of=2)
    fps: int = Field(default=10, ge=2, le=30)
    seconds: int = Field(default=4, ge=1, le=30, description="length of the looped clip")
    variants: int = Field(default=6, ge=1, le=8, description="distinct healthy scenes")
    seed: str = Field(default="eldercare", description="passwords derive from it")
    username: str = Field(default="admin", min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    cache_dir: Path = Field(default=DEFAULT_CACHE_DIR, description="encoded clips")
    stall_after_s: float = Field(default=2.0, ge=0, le=600)
    session_timeout_s: int = Field(default=60, ge=5, le=3600)
    scenario: Scenario = Field(default_factory=Scenario)

    @model_validator(mode="after")
    def _check(self) -> FarmConfig:
        if self.base_port and self.base_port + self.count - 1 > 65535:
            raise ValueError("base_port: base_port + count - 1 exceeds 65535")
        unknown = sorted(self.scenario.camera_ids() - set(self.camera_ids()))
        if unknown:
            raise ValueError(f"scenario: unknown camera ids {', '.join(unknown)}")
        return self

    def camera_ids(self) -> list[str]:
        """``cam-001`` … in order."""
        return [camera_id(index) for index in range(self.count)]


def camera_id(index: int) -> str:
    """Id of the camera at 0-based ``index``."""
    return f"cam-{index + 1:03d}"


def facility_id(index: int, per_facility: int) -> str:
    """Id of the facility the camera at 0-based ``index`` belongs to."""
    return f"fac-{index // per_facility + 1:03d}"


def load_scenario(path: Path) -> Scenario:
    """A ``Scenario`` from a TOML file; raises ``ConfigError`` naming the bad key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return build(Scenario, data, str(path))


def build(model: type[T], data: Any, where: str) -> T:
    """``model`` validated from ``data``; ``ConfigError`` names each bad key."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"{where}: {problems}") from exc
