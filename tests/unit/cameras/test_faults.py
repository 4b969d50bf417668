"""assess(): probe outcomes become faults; a decoded sample goes to the detectors."""

from __future__ import annotations

from dataclasses import replace

import pytest

from gateway.cameras.baseline import Baselines
from gateway.cameras.config import Thresholds
from gateway.cameras.faults import Fault, FaultKind, Verdict, assess, picture_faults
from gateway.cameras.modes import Mode
from gateway.cameras.probe import ProbeOutcome, ProbeReport
from tests.unit.cameras.scenes import HEALTHY

T = Thresholds()
NONE = Baselines()
DAY = Mode.DAY


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        (ProbeOutcome.REFUSED, FaultKind.UNREACHABLE),
        (ProbeOutcome.UNREACHABLE, FaultKind.UNREACHABLE),
        (ProbeOutcome.TIMEOUT, FaultKind.TIMEOUT),
        (ProbeOutcome.AUTH_FAILED, FaultKind.AUTH_FAILED),
        (ProbeOutcome.NOT_FOUND, FaultKind.NOT_FOUND),
        (ProbeOutcome.ERROR, FaultKind.PROBE_ERROR),
    ],
)
def test_outcomes_become_faults(outcome: ProbeOutcome, kind: FaultKind) -> None:
    verdict = assess(ProbeReport.failed(outcome, "why"), NONE, T, None)
    assert verdict.mode is None
    (fault,) = verdict.faults
    assert fault.kind is kind
    assert fault.detail == "why"


def test_reachable_without_frames_is_no_signal() -> None:
    report = ProbeReport(outcome=ProbeOutcome.REACHABLE, detail="no frame decoded")
    assert assess(report, NONE, T, None) == Verdict(
        (Fault(FaultKind.NO_SIGNAL, "frames", 0.0, 1.0, "no frame decoded"),)
    )


def test_stream_that_stalled_is_no_signal() -> None:
    report = ProbeReport(
        outcome=ProbeOutcome.REACHABLE, measures=HEALTHY, stalled=True, detail="stalled"
    )
    assert assess(report, NONE, T, None).faults == (
        Fault(FaultKind.NO_SIGNAL, "frames", 8.0, None, "stalled"),
    )


def test_healthy_measures_give_no_fault() -> None:
    report = ProbeReport(outcome=ProbeOutcome.REACHABLE, measures=HEALTHY)
    assert assess(report, NONE, T, 25.0) == Verdict((), Mode.DAY)


def test_fault_carries_measure_value_and_threshold() -> None:
    (fault,) = picture_faults(replace(HEALTHY, motion=0.0), DAY, None, T, None)
    assert fault.to_json() == {
        "kind": "frozen",
        "measure": "motion",
        "value": 0.0,
        "threshold": T.frozen_max_motion,
        "detail": "",
    }


def test_black_masks_the_faults_it_causes() -> None:
    dark = replace(HEALTHY, mean_luma=2.0, bright_fraction=0.0, motion=0.0, spread=1.0)
    assert [f.kind for f in picture_faults(dark, DAY, None, T, None)] == [FaultKind.BLACK]


def test_low_fps_is_not_masked() -> None:
    dark = replace(HEALTHY, mean_luma=2.0, bright_fraction=0.0, fps=1.0, spread=3.0)
    found = {f.kind for f in picture_faults(dark, DAY, None, T, None)}
    assert found == {FaultKind.BLACK, FaultKind.LOW_FPS}


def test_per_camera_threshold_changes_the_verdict() -> None:
    slow = replace(HEALTHY, fps=3.0)
    assert picture_faults(slow, DAY, None, T, None)
    assert picture_faults(slow, DAY, None, T.model_copy(update={"min_fps": 2.0}), None) == ()
