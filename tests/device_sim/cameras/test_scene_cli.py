"""``python -m device_sim camera-scenes`` writes the labelled set out as pictures."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
from typer.testing import CliRunner

from device_sim.cameras.scene_set import SHOTS, STRENGTHS
from device_sim.cli import _register, app


def test_writes_a_picture_per_probe_labels_and_a_sheet_per_camera(tmp_path: Path) -> None:
    _register()
    result = CliRunner().invoke(app, ["camera-scenes", "--out", str(tmp_path), "--seeds", "3"])
    assert result.exit_code == 0, result.output
    with (tmp_path / "labels.csv").open() as file:
        rows = list(csv.DictReader(file))
    per_camera = len(SHOTS) * (1 + 3 * len(STRENGTHS))
    assert len(rows) == 3 * per_camera
    assert {row["condition"] for row in rows} == {"day", "night", "ir"}
    picture = cv2.imread(str(tmp_path / rows[-1]["picture"]))
    assert picture is not None
    assert picture.shape == (180, 320, 3)
    sheet = cv2.imread(str(tmp_path / "room-3.png"))
    assert sheet is not None
    assert sheet.shape == (90 * len(SHOTS), 160 * (1 + len(STRENGTHS)), 3)
