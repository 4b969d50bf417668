from __future__ import annotations

from pathlib import Path

import pytest

from device_sim.cameras.config import (
    ConfigError,
    FarmConfig,
    Scenario,
    build,
    facility_id,
    load_scenario,
)
from device_sim.cameras.faults import Fault

SCENARIO = """
[faults]
cam-002 = "frozen"
cam-003 = "healthy"

[[schedule]]
at = 10
camera = "cam-001"
fault = "stall"
duration = 5

[[schedule]]
at = 12
camera = "cam-004"
fault = "black"
"""


def test_scenario_file_and_timeline(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SCENARIO)
    scenario = load_scenario(path)
    assert scenario.faults == {"cam-002": Fault.FROZEN, "cam-003": Fault.NONE}
    assert scenario.timeline() == [
        (10.0, "cam-001", Fault.STALL),
        (12.0, "cam-004", Fault.BLACK),
        (15.0, "cam-001", Fault.NONE),
    ]


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[[schedule]]\nat = 1\ncamera = "cam-001"\nfault = "stall"\nextra = 1\n', "extra"),
        ('[[schedule]]\nat = -1\ncamera = "cam-001"\nfault = "stall"\n', "schedule.0.at"),
        ('[faults]\ncam-001 = "melted"\n', "faults.cam-001"),
        ("[faults\n", "s.toml"),
    ],
)
def test_bad_scenarios_name_the_key(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "s.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load_scenario(path)


def test_scenario_cameras_must_exist() -> None:
    scenario = Scenario(faults={"cam-009": Fault.BLACK})
    with pytest.raises(ConfigError, match="cam-009"):
        build(FarmConfig, {"count": 8, "scenario": scenario}, "options")


@pytest.mark.parametrize(
    ("data", "named"),
    [
        ({"count": 0}, "count"),
        ({"width": 641}, "width"),
        ({"count": 10, "base_port": 65530}, "base_port"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_farm_config_names_the_key(data: dict[str, object], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        build(FarmConfig, data, "options")


def test_ids() -> None:
    config = FarmConfig(count=4, per_facility=2)
    assert config.camera_ids() == ["cam-001", "cam-002", "cam-003", "cam-004"]
    assert [facility_id(i, 2) for i in range(4)] == ["fac-001", "fac-001", "fac-002", "fac-002"]
