"""CamerasConfig: defaults, bounds, errors naming the key, secrets kept secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.cameras.config import (
    CameraConfig,
    CamerasConfig,
    FacilityConfig,
    HealthPolicy,
    MaintenanceWindow,
    Thresholds,
)


def camera(**extra: Any) -> dict[str, Any]:
    return {"id": "cam-1", "url": "rtsp://10.0.0.5:554/stream1", **extra}


def config(*cameras: dict[str, Any], **extra: Any) -> CamerasConfig:
    facility = {"id": "f1", "name": "Sunrise Home", "region": ["D", "T", "C"]}
    return CamerasConfig.model_validate(
        {"facilities": [{**facility, "cameras": list(cameras)}], **extra}
    )


def error_locations(exc: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [".".join(str(part) for part in error["loc"]) for error in exc.value.errors()]


def test_defaults_are_valid_and_documented() -> None:
    cfg = CamerasConfig()
    assert cfg.enabled
    assert cfg.interval_seconds == 60
    assert cfg.probe_timeout_seconds == 30
    models = (
        CamerasConfig,
        Thresholds,
        HealthPolicy,
        CameraConfig,
        FacilityConfig,
        MaintenanceWindow,
    )
    for model in models:
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description"


def test_unknown_key_is_an_error_naming_it() -> None:
    with pytest.raises(ValidationError) as exc:
        config(camera(colour="red"))
    assert error_locations(exc) == ["facilities.0.cameras.0.colour"]


def test_out_of_range_value_names_the_key() -> None:
    with pytest.raises(ValidationError) as exc:
        CamerasConfig.model_validate({"concurrency": 0})
    assert error_locations(exc) == ["concurrency"]


def test_threshold_override_with_unknown_name_is_rejected() -> None:
    with pytest.raises(ValidationError, match="unknown threshold 'blur'"):
        config(camera(thresholds={"blur": 0.3}))


def test_threshold_override_out_of_range_names_the_threshold() -> None:
    with pytest.raises(ValidationError, match="blurred_max_ratio"):
        config(camera(thresholds={"blurred_max_ratio": 1.5}))


def test_threshold_override_applies_to_that_camera_only() -> None:
    cfg = config(camera(thresholds={"min_fps": 1.0}), camera(id="cam-2"))
    first, second = cfg.facilities[0].cameras
    assert cfg.thresholds_for(first).min_fps == 1.0
    assert cfg.thresholds_for(second).min_fps == Thresholds().min_fps


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.5/stream", "rtsp:///nohost", "rtsp://admin:pw@10.0.0.5/stream"],
)
def test_bad_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValidationError) as exc:
        config(camera(url=url))
    assert error_locations(exc) == ["facilities.0.cameras.0.url"]


def test_password_from_environment_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAM1_PASSWORD", "s3cret!")
    cfg = config(camera(username="admin", password_env="CAM1_PASSWORD"))
    cam = cfg.facilities[0].cameras[0]
    assert cam.password is not None
    assert cam.password.get_secret_value() == "s3cret!"
    assert "s3cret" not in repr(cfg)
    assert "s3cret" not in str(cfg)
    assert "s3cret" not in cfg.model_dump_json()


def test_password_from_file(tmp_path: Path) -> None:
    secret = tmp_path / "cam1.pw"
    secret.write_text("from-file\n")
    cam = config(camera(username="admin", password_file=str(secret))).facilities[0].cameras[0]
    assert cam.password is not None
    assert cam.password.get_secret_value() == "from-file"


def test_missing_password_variable_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_PASSWORD", raising=False)
    with pytest.raises(ValidationError) as exc:
        config(camera(username="admin", password_env="NOPE_PASSWORD"))
    assert error_locations(exc) == ["facilities.0.cameras.0.password_env"]


def test_password_needs_a_username(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAM1_PASSWORD", "x")
    with pytest.raises(ValidationError, match="needs a username"):
        config(camera(password_env="CAM1_PASSWORD"))


def test_inline_password_is_not_accepted() -> None:
    with pytest.raises(ValidationError) as exc:
        config(camera(username="admin", password="plain"))
    assert error_locations(exc) == ["facilities.0.cameras.0.password"]


def test_duplicate_camera_ids_are_rejected() -> None:
    with pytest.raises(ValidationError, match="duplicate camera id 'cam-1'"):
        config(camera(), camera())


@pytest.mark.parametrize("bad_id", ["", "../etc", "a b", ".hidden", "x" * 65])
def test_ids_must_be_safe_for_paths(bad_id: str) -> None:
    with pytest.raises(ValidationError):
        config(camera(id=bad_id))


def test_maintenance_windows_accept_daily_strings_and_ranges() -> None:
    windows = ["02:00-03:00", {"start": "2025-01-01T08:00:00", "end": "2025-01-01T09:00:00"}]
    cam = config(camera(maintenance=windows)).facilities[0].cameras[0]
    assert cam.maintenance[0].daily == "02:00-03:00"
    assert cam.maintenance[1].start is not None


@pytest.mark.parametrize(
    "window",
    ["25:00-03:00", "2-3", {"start": "2025-01-01T09:00:00", "end": "2025-01-01T08:00:00"}],
)
def test_bad_maintenance_windows_are_rejected(window: object) -> None:
    with pytest.raises(ValidationError) as exc:
        config(camera(maintenance=[window]))
    assert all(
        loc.startswith("facilities.0.cameras.0.maintenance.0") for loc in error_locations(exc)
    )


def test_probe_timeout_must_cover_open_read_and_sample() -> None:
    with pytest.raises(ValidationError, match="probe_timeout_seconds must be at least"):
        CamerasConfig(probe_timeout_seconds=5)


def test_confirm_count_cannot_exceed_window() -> None:
    with pytest.raises(ValidationError, match="confirm_count"):
        HealthPolicy(confirm_window=2, confirm_count=3)


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        CamerasConfig(timezone="Mars/Olympus")
    assert error_locations(exc) == ["timezone"]
    assert CamerasConfig(timezone="Asia/Shanghai").tzinfo() is not None
