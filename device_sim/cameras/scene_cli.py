"""``python -m device_sim camera-scenes``: write the labelled scene set out as pictures.

For a technician (or a reviewer of the camera benchmark) to look at what the set shows:
one PNG per probe (its last frame) under ``OUT/<camera>/<shot>/<fault>@<strength>.png``,
a contact sheet per camera (rows: lightings, columns: clean, then each fault at the
chosen strength) and ``labels.csv`` with every probe's label.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import cv2
import numpy as np
import typer
from rich.console import Console

from device_sim.cameras.scene_set import SHOTS, STRENGTHS, Condition, Injected, cameras, take

HOURS = {Condition.DAY: 10.0, Condition.NIGHT: 21.0, Condition.IR: 2.0}  # for the clock


def camera_scenes(
    out: Annotated[Path, typer.Option(help="Directory to write the pictures and labels.csv to.")],
    seeds: Annotated[list[int] | None, typer.Option(help="Camera seeds; repeatable.")] = None,
    strength: Annotated[int, typer.Option(min=0, max=2, help="Strength on the sheets.")] = 1,
) -> None:
    """Write the labelled scene set (day, night, infrared; every fault) as PNG files."""
    console = Console()
    rows = []
    for camera in cameras(tuple(seeds or [1])):
        sheet = []
        for shot in SHOTS:
            line = []
            for fault in (Injected.NONE, *STRENGTHS):
                for level in range(3) if fault is not Injected.NONE else (0,):
                    probe = take(camera, shot, fault, level, HOURS[shot.condition] * 3600, 17)
                    name = (
                        f"{fault.value}@{level}.png" if fault is not Injected.NONE else "none.png"
                    )
                    path = out / camera.name / shot.name.replace(" ", "_").replace(",", "") / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    cv2.imwrite(str(path), probe.frames[-1])
                    rows.append(
                        [
                            camera.name,
                            shot.name,
                            shot.condition.value,
                            fault.value,
                            level,
                            str(path.relative_to(out)),
                        ]
                    )
                    if level == (0 if fault is Injected.NONE else strength):
                        line.append(cv2.resize(probe.frames[-1], (160, 90)))
            sheet.append(np.hstack(line))
        cv2.imwrite(str(out / f"{camera.name}.png"), np.vstack(sheet))
        console.print(f"{camera.name}: {out / (camera.name + '.png')}")
    with (out / "labels.csv").open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["camera", "shot", "condition", "fault", "strength", "picture"])
        writer.writerows(rows)
    console.print(f"{len(rows)} probes, labels in {out / 'labels.csv'}")
