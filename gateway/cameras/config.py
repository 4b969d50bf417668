"""Configuration of the camera health monitor (the ``cameras`` section).

Validated once at start: an unknown key, an out-of-range value, a missing password
variable or file fails with the key's path. Passwords are read here, once, from an
environment variable or a secrets file, kept as ``SecretStr`` and never appear in a
repr or a log line.
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import (
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from gateway.config_base import StrictModel

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""Ids name files and URL paths, so they are restricted to a safe alphabet."""

_DAILY_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d-(([01]\d|2[0-3]):[0-5]\d|24:00)$"


class Thresholds(StrictModel):
    """Fault thresholds; see the table in :mod:`gateway.cameras.analysis` and the reasons
    in :mod:`gateway.cameras.faults` and :mod:`gateway.cameras.modes`."""

    frozen_max_motion: float = Field(
        0.05,
        ge=0,
        le=20,
        description="Frozen when consecutive frames differ by less (median, grey levels).",
    )
    black_max_mean_luma: float = Field(
        24, ge=0, le=255, description="Black: mean luma at most this."
    )
    black_max_bright_fraction: float = Field(
        0.002, ge=0, le=1, description="Black: and less content than this fraction at luma >= 48."
    )
    black_max_spread: float = Field(
        12, ge=0, le=255, description="Black: and the content's p95 - p5 below this."
    )
    overexposed_min_fraction: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Over-exposed: at least this fraction of pixels at luma >= 250.",
    )
    low_contrast_max_spread: float = Field(
        12, ge=0, le=255, description="Low contrast alone: content p95 - p5 below this ..."
    )
    low_contrast_max_contrast: float = Field(
        0.2, gt=0, le=1, description="... and its Michelson contrast below this."
    )
    low_contrast_max_ratio: float = Field(
        0.5, gt=0, le=1, description="Low contrast: spread below this fraction of the baseline's"
    )
    low_contrast_max_contrast_ratio: float = Field(
        0.45, gt=0, le=1, description="... and Michelson contrast below this fraction of it."
    )
    blurred_max_ratio: float = Field(
        0.45, gt=0, lt=1, description="Blurred: sharpness below this fraction of the baseline."
    )
    blurred_min_detail: float = Field(
        0.3, ge=0, le=1, description="Blur is judged only with this fraction of cells detailed."
    )
    occluded_min_lost_detail: float = Field(
        0.3, gt=0, le=1, description="Occluded: this fraction of the baseline's detail is gone ..."
    )
    occluded_min_flat_fraction: float = Field(
        0.4, gt=0, le=1, description="... and at least this fraction of the frame is featureless."
    )
    occluded_fallback_flat_fraction: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Occluded alone: featureless fraction at least this, mean luma above"
        " black_max_mean_luma.",
    )
    noisy_min_ratio: float = Field(
        2.0, gt=1, le=100, description="Noisy: noise level at least this multiple of baseline."
    )
    noisy_min_level: float = Field(
        5.0, ge=0, le=255, description="Noisy: and at least this level (grey levels)."
    )
    noisy_max_level: float = Field(
        20.0, gt=0, le=255, description="Noisy regardless of baseline from this level."
    )
    colour_cast_min_shift: float = Field(
        0.15,
        gt=0,
        le=3,
        description="Colour cast: a channel's share of the light moved this much (over 1/3)"
        " from the baseline's.",
    )
    colour_cast_max: float = Field(
        0.5, gt=0, le=3, description="Colour cast alone: grey-world deviation at least."
    )
    scene_min_similarity: float = Field(
        0.5, ge=-1, lt=1, description="Scene changed: edge-map correlation with reference below."
    )
    min_fps: float = Field(5.0, ge=0, le=240, description="Low frame rate: measured fps below.")
    min_fps_ratio: float = Field(
        0.45,
        gt=0,
        le=1,
        description="Low frame rate: below this fraction of expected_fps (slow shutter"
        " at night halves it).",
    )
    ir_max_colourfulness: float = Field(
        0.012, ge=0, le=1, description="Infrared mode: chromaticity spread below this."
    )
    day_min_lit_fraction: float = Field(
        0.65, ge=0, le=1, description="Day mode: at least this fraction of the content lit."
    )


class HealthPolicy(StrictModel):
    """When a fault becomes an incident, and when an incident is over."""

    confirm_window: int = Field(5, ge=1, le=100, description="M: last probes looked at.")
    confirm_count: int = Field(
        3,
        ge=1,
        le=100,
        description="N: faulty probes among the last M; also the faulty probes in a row a"
        " new kind of fault must hold before the change is announced.",
    )
    min_fault_seconds: float = Field(
        120, ge=0, le=86400, description="A fault must persist this long before it pages."
    )
    restore_count: int = Field(3, ge=1, le=100, description="Healthy probes in a row to restore.")
    restore_hold_seconds: float = Field(
        300, ge=0, le=86400, description="Stay healthy this long before the incident closes."
    )

    @model_validator(mode="after")
    def _count_fits_window(self) -> HealthPolicy:
        if self.confirm_count > self.confirm_window:
            raise ValueError("confirm_count must not exceed confirm_window")
        return self


class MaintenanceWindow(StrictModel):
    """Either ``daily: "HH:MM-HH:MM"`` (local time, may cross midnight) or ``start``/``end``.

    A plain string in the config is read as ``daily``.
    """

    daily: str | None = Field(None, pattern=_DAILY_PATTERN, description="Daily local-time range.")
    start: datetime | None = Field(None, description="Absolute start; naive means local time.")
    end: datetime | None = Field(None, description="Absolute end; naive means local time.")

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"daily": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _one_form(self) -> MaintenanceWindow:
        absolute = (self.start, self.end)
        if self.daily is not None and absolute != (None, None):
            raise ValueError("give either daily or start/end, not both")
        if self.daily is None and None in absolute:
            raise ValueError('give daily: "HH:MM-HH:MM" or both start and end')
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError("end must be after start")
        return self


def environ_of(context: Any) -> Mapping[str, str]:
    """The environment to read secrets from: the validation context's, else the process's."""
    if isinstance(context, dict) and "environ" in context:
        environ: Mapping[str, str] = context["environ"]
        return environ
    return os.environ


def section_disabled(context: Any, section: str) -> bool:
    """Whether the config being validated turns ``section`` off (``enabled = false``);
    a disabled section's secrets are not demanded (see :func:`gateway.config.parse_config`)."""
    return isinstance(context, dict) and section in context.get("disabled", ())


class CameraConfig(StrictModel):
    """One RTSP camera. Credentials never go in the URL."""

    id: str = Field(pattern=ID_PATTERN, description="Unique camera id.")
    name: str = Field("", max_length=200, description="Human name shown in the console.")
    url: str = Field(max_length=2000, description="rtsp://host[:port]/path, without credentials.")
    enabled: bool = Field(True, description="Probe this camera.")
    username: str | None = Field(None, max_length=200, description="RTSP user name.")
    password_env: str | None = Field(
        None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="Env variable holding the password."
    )
    password_file: Path | None = Field(None, description="File holding the password.")
    expected_fps: float | None = Field(None, gt=0, le=240, description="Nominal frame rate.")
    daylight: bool = Field(
        True,
        description="Daylight reaches the scene in the daylight hours (false for a"
        " windowless corridor or room: its dark pictures are then judged as at night).",
    )
    thresholds: dict[str, float] = Field(
        default_factory=dict, description="Overrides of the default thresholds, by name."
    )
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, description="Windows in which this camera's events are silenced."
    )
    _password: SecretStr | None = PrivateAttr(default=None)

    @field_validator("url")
    @classmethod
    def _rtsp_url(cls, url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme != "rtsp" or not parts.hostname:
            raise ValueError("must look like rtsp://host[:port]/path")
        if parts.username is not None or parts.password is not None:
            raise ValueError("must not hold credentials; use username and password_env")
        _ = parts.port  # raises ValueError on a bad port
        return url

    @field_validator("password_env")
    @classmethod
    def _env_is_set(cls, name: str | None, info: ValidationInfo) -> str | None:
        needed = info.data.get("enabled", True) and not section_disabled(info.context, "cameras")
        if name is not None and needed and name not in environ_of(info.context):
            raise ValueError(f"environment variable {name} is not set")
        return name

    @field_validator("password_file")
    @classmethod
    def _file_is_readable(cls, path: Path | None) -> Path | None:
        if path is not None and not path.is_file():
            raise ValueError(f"{path} is not a readable file")
        return path

    @field_validator("thresholds")
    @classmethod
    def _known_thresholds(cls, overrides: dict[str, float]) -> dict[str, float]:
        for key, value in overrides.items():
            if key not in Thresholds.model_fields:
                raise ValueError(f"unknown threshold {key!r}")
            try:
                Thresholds.model_validate({key: value})
            except ValidationError as exc:
                raise ValueError(f"{key}: {exc.errors()[0]['msg']}") from exc
        return overrides

    @model_validator(mode="after")
    def _credentials(self) -> CameraConfig:
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("give password_env or password_file, not both")
        if (self.password_env or self.password_file) and not self.username:
            raise ValueError("a password needs a username")
        return self

    def model_post_init(self, context: Any, /) -> None:
        if self.password_env is not None:
            value = environ_of(context).get(self.password_env)
            # Absent only where it is not needed (camera or section disabled).
            self._password = None if value is None else SecretStr(value)
        elif self.password_file is not None:
            self._password = SecretStr(self.password_file.read_text().rstrip("\r\n"))

    @property
    def password(self) -> SecretStr | None:
        """The resolved password; ``None`` when the camera needs none."""
        return self._password


class FacilityConfig(StrictModel):
    """A care facility and the cameras installed there."""

    id: str = Field(pattern=ID_PATTERN, description="Unique facility id.")
    name: str = Field("", max_length=200, description="Human name.")
    region: list[str] = Field(
        default_factory=list, max_length=8, description="District, town, community/village."
    )
    cameras: list[CameraConfig] = Field(default_factory=list, description="Cameras here.")
    maintenance: list[MaintenanceWindow] = Field(
        default_factory=list, description="Windows that silence every camera of the facility."
    )


class CamerasConfig(StrictModel):
    """The ``cameras`` section."""

    enabled: bool = Field(True, description="Run the camera health monitor.")
    interval_seconds: float = Field(60, ge=0.1, le=86400, description="One sweep per interval.")
    concurrency: int = Field(4, ge=1, le=64, description="Worker processes probing in parallel.")
    jitter: float = Field(
        0.8, ge=0, le=1, description="Fraction of the interval the probe starts are spread over."
    )
    open_timeout_seconds: float = Field(5, gt=0, le=120, description="RTSP connect/open timeout.")
    read_timeout_seconds: float = Field(5, gt=0, le=120, description="Wait for a frame at most.")
    probe_timeout_seconds: float = Field(
        30, gt=0, le=600, description="Hard limit per probe; the worker is killed past it."
    )
    sample_frames: int = Field(8, ge=2, le=64, description="Frames kept for analysis.")
    sample_seconds: float = Field(2.0, gt=0, le=30, description="Time span the sample covers.")
    analysis_width: int = Field(320, ge=64, le=1920, description="Frames are scaled to this width.")
    snapshot_dir: Path = Field(Path("var/cameras"), description="Snapshots and baselines.")
    snapshot_max_bytes: int = Field(
        64 * 2**20, ge=2**16, le=2**40, description="Total snapshot size; oldest evicted first."
    )
    snapshot_width: int = Field(640, ge=64, le=3840, description="Snapshot JPEG width (pixels).")
    snapshot_quality: int = Field(80, ge=10, le=100, description="Snapshot JPEG quality.")
    history_size: int = Field(
        100, ge=1, le=10000, description="Probes kept per camera for the API."
    )
    baseline_probes: int = Field(
        5, ge=1, le=100, description="Healthy probes a camera's baseline is learned from."
    )
    dead_backoff_cap_seconds: float = Field(
        600, gt=0, le=86400, description="Longest wait between probes of an unreachable camera."
    )
    timezone: str | None = Field(
        None, description="IANA zone for maintenance and daylight hours; None = system."
    )
    daylight_hours: str | None = Field(
        "09:00-16:00",
        pattern=_DAILY_PATTERN,
        description="Local hours when it is surely day: a dark, empty, live picture is then"
        " black even from a camera without infrared (outside them: too dark, not paged)."
        " None: only a dead signal or an infrared camera's dark picture is black.",
    )
    thresholds: Thresholds = Field(default_factory=Thresholds, description="Default thresholds.")
    health: HealthPolicy = Field(default_factory=HealthPolicy, description="Incident policy.")
    facilities: list[FacilityConfig] = Field(default_factory=list, description="Sites.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str | None) -> str | None:
        if name is not None:
            try:
                zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {name!r}") from exc
        return name

    @model_validator(mode="after")
    def _timeouts_fit(self) -> CamerasConfig:
        needed = 3 * self.open_timeout_seconds + self.read_timeout_seconds + self.sample_seconds
        if self.probe_timeout_seconds < needed:
            raise ValueError(
                f"probe_timeout_seconds must be at least 3*open_timeout_seconds"
                f" + read_timeout_seconds + sample_seconds = {needed:g}"
            )
        return self

    @model_validator(mode="after")
    def _unique_ids(self) -> CamerasConfig:
        _require_unique("facility", [f.id for f in self.facilities])
        _require_unique("camera", [c.id for f in self.facilities for c in f.cameras])
        return self

    def thresholds_for(self, camera: CameraConfig) -> Thresholds:
        """Defaults with the camera's overrides applied (both validated already)."""
        return self.thresholds.model_copy(update=camera.thresholds)

    def tzinfo(self) -> zoneinfo.ZoneInfo | None:
        """The maintenance time zone; ``None`` means the system's local time."""
        return zoneinfo.ZoneInfo(self.timezone) if self.timezone else None


def _require_unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for item in ids:
        if item in seen:
            raise ValueError(f"duplicate {what} id {item!r}")
        seen.add(item)
