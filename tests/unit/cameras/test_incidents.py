"""Saving and restoring each camera's health state across restarts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cameras.config import HealthPolicy
from gateway.cameras.faults import Fault, FaultKind
from gateway.cameras.health import CameraIdentity, CameraState, Incident, Note, Phase, Snooze
from gateway.cameras.incidents import IncidentStore

IDENTITY = CameraIdentity("cam-1", "fac-1", ("D", "T"))
FRESH = CameraState(IDENTITY, HealthPolicy())
FAULTY = CameraState(
    IDENTITY,
    HealthPolicy(),
    phase=Phase.FAULTY,
    since=1_060.0,
    window=(False, True, True, True),
    healthy_streak=0,
    incident=Incident(
        started_at=1_060.0,
        announced=True,
        relapses=2,
        kinds=("black",),
        changes=1,
        acknowledged=Note("tech", 1_100.0, "ladder on the way"),
    ),
    faults=(Fault(FaultKind.BLACK, "mean_luma", 2.0, 24.0),),
    last_probe_at=1_240.0,
    fault_since=(("black", 1_180.0),),
    snooze=Snooze("tech", 1_100.0, 2_000.0, "painting the hall"),
)
SAVED_OK = {"phase": "ok", "since": 1.0, "window": [], "healthy_streak": 0, "incident": None}


def test_saved_ok_sample_is_valid(tmp_path: Path) -> None:
    (tmp_path / "cam-1.json").write_text(json.dumps(SAVED_OK))
    assert IncidentStore(tmp_path).load(FRESH).phase is Phase.OK


def test_faulty_state_round_trips(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path / "incidents")
    store.save(FAULTY)
    restored = store.load(FRESH)
    assert restored.identity == IDENTITY
    assert restored.phase is Phase.FAULTY
    assert restored.since == 1_060.0
    assert restored.window == FAULTY.window
    assert restored.incident == FAULTY.incident
    # the wall shows the camera's faults and last probe at once, not after the next probe
    assert restored.faults == FAULTY.faults
    assert restored.last_probe_at == 1_240.0
    assert restored.fault_since == FAULTY.fault_since
    assert restored.snooze == FAULTY.snooze


def test_missing_file_gives_the_fresh_state(tmp_path: Path) -> None:
    assert IncidentStore(tmp_path / "none-yet").load(FRESH) is FRESH


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[1, 2]",
        json.dumps({**SAVED_OK, "phase": "on fire"}),
        json.dumps({**SAVED_OK, "phase": "faulty"}),  # faulty without an incident
    ],
)
def test_unreadable_file_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    (tmp_path / "cam-1.json").write_text(content)
    assert IncidentStore(tmp_path).load(FRESH) is FRESH
    assert "ignoring camera state" in caplog.text


def test_save_replaces_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = IncidentStore(tmp_path)
    store.save(FAULTY)
    store.save(FRESH)
    assert [p.name for p in tmp_path.iterdir()] == ["cam-1.json"]
    assert store.load(FAULTY).phase is Phase.UNKNOWN
