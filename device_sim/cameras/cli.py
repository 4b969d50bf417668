"""``python -m device_sim cameras``: serve simulated facility RTSP cameras.

Prints a table of the cameras (URL, login, fault) once they all accept, and a table
of the faulted ones whenever a fault changes; writes the manifest file alongside.
Stops cleanly on Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from device_sim.cameras.camera import CameraInfo
from device_sim.cameras.config import (
    DEFAULT_CACHE_DIR,
    ConfigError,
    FarmConfig,
    Scenario,
    build,
    load_scenario,
)
from device_sim.cameras.farm import CameraFarm, FarmError
from device_sim.cameras.faults import Fault, parse_fault


def cameras(
    count: Annotated[int, typer.Option(help="Number of cameras.")] = 8,
    per_facility: Annotated[int, typer.Option(help="Cameras per facility.")] = 1,
    host: Annotated[str, typer.Option(help="Address every camera binds.")] = "127.0.0.1",
    base_port: Annotated[
        int, typer.Option(help="Port of cam-001; camera i gets base+i-1. 0 picks free ports.")
    ] = 8601,
    control_port: Annotated[
        int, typer.Option(help="HTTP control port; 0 picks a free one, -1 disables.")
    ] = 8600,
    fps: Annotated[int, typer.Option(help="Frames per second of a healthy camera.")] = 10,
    width: Annotated[int, typer.Option(help="Picture width in pixels.")] = 640,
    height: Annotated[int, typer.Option(help="Picture height in pixels.")] = 360,
    seconds: Annotated[int, typer.Option(help="Length of the looped clip.")] = 4,
    variants: Annotated[int, typer.Option(help="Distinct healthy scenes (1-8).")] = 6,
    scenario: Annotated[
        Path | None, typer.Option(help="TOML file of faults at start and on a schedule.")
    ] = None,
    fault: Annotated[
        list[str] | None, typer.Option(help="CAM=FAULT at start, e.g. cam-003=frozen; repeatable.")
    ] = None,
    manifest: Annotated[
        Path | None, typer.Option(help="Write a JSON manifest of the cameras here.")
    ] = None,
    cache_dir: Annotated[Path, typer.Option(help="Where encoded clips are cached.")] = (
        DEFAULT_CACHE_DIR
    ),
    seed: Annotated[str, typer.Option(help="Seed the camera passwords derive from.")] = (
        "eldercare"
    ),
    stall_after: Annotated[
        float, typer.Option(help="Seconds a 'stall' camera streams before going quiet.")
    ] = 2.0,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "WARNING",
) -> None:
    """Serve simulated facility RTSP cameras (H.264 over RTSP/RTP) with injectable faults."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    console = Console()
    try:
        plan = load_scenario(scenario) if scenario is not None else Scenario()
        plan = _with_flags(plan, fault or [])
        config = build(
            FarmConfig,
            {
                "count": count,
                "per_facility": per_facility,
                "host": host,
                "base_port": base_port,
                "control_port": None if control_port < 0 else control_port,
                "fps": fps,
                "width": width,
                "height": height,
                "seconds": seconds,
                "variants": variants,
                "seed": seed,
                "cache_dir": cache_dir,
                "stall_after_s": stall_after,
                "scenario": plan,
            },
            "options",
        )
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from exc
    try:
        asyncio.run(_serve(config, manifest, console))
    except (KeyboardInterrupt, asyncio.CancelledError):
        console.print("[bold]cameras stopped[/bold]")
    except FarmError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from exc


def _with_flags(plan: Scenario, flags: Sequence[str]) -> Scenario:
    faults = dict(plan.faults)
    for flag in flags:
        cam, sep, name = flag.partition("=")
        if not sep or not cam.strip():
            raise ConfigError(f"--fault: expected CAM=FAULT, got {flag!r}")
        try:
            faults[cam.strip()] = parse_fault(name)
        except ValueError as exc:
            raise ConfigError(f"--fault {flag}: {exc}") from exc
    return plan.model_copy(update={"faults": faults})


async def _serve(config: FarmConfig, manifest: Path | None, console: Console) -> None:
    def changed(rows: Sequence[CameraInfo], change: CameraInfo | None) -> None:
        if manifest is not None:
            _write_manifest(manifest, farm)
        if change is None:
            console.print(camera_table(rows, f"{len(rows)} cameras ready"))
            console.print(f"control endpoint: {farm.control_url or 'disabled'}")
            return
        faulted = [row for row in rows if row.fault is not Fault.NONE]
        title = f"{change.camera_id} -> {change.fault.value}; {len(faulted)} faulted"
        console.print(camera_table(faulted, title))

    farm = CameraFarm(config, on_change=changed)
    main = asyncio.current_task()
    assert main is not None
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored
        loop.add_signal_handler(signum, main.cancel)
    await farm.run()


def camera_table(rows: Sequence[CameraInfo], title: str) -> Table:
    """A rich table of camera rows."""
    table = Table(title=title)
    for column in ("camera", "facility", "url", "user", "password", "scene", "fault"):
        table.add_column(column, overflow="fold")
    for row in rows:
        fault = row.fault.value if row.fault is Fault.NONE else f"[bold red]{row.fault.value}"
        table.add_row(
            row.camera_id,
            row.facility_id,
            row.url,
            row.username,
            row.password,
            str(row.scene),
            fault,
        )
    return table


def _write_manifest(path: Path, farm: CameraFarm) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(farm.manifest(), indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
