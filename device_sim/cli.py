"""``python -m device_sim``: simulated terminals, cameras and command center.

Each subcommand lives beside the simulator it drives; this module only assembles them.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="device_sim",
    help="Simulated elder terminals, facility cameras and command center for testing a site.",
    no_args_is_help=True,
    add_completion=False,
)


def _register() -> None:
    # Imported here so that `--help` stays fast and one simulator's heavy imports
    # (OpenCV, numpy) are not paid by another.
    from device_sim.brokers import brokers
    from device_sim.cameras.cli import cameras
    from device_sim.cameras.scene_cli import camera_scenes
    from device_sim.command_center.cli import command_center
    from device_sim.demo import demo
    from device_sim.terminals.cli import terminals

    app.command("terminals")(terminals)
    app.command("command-center")(command_center)
    app.command("cameras")(cameras)
    app.command("camera-scenes")(camera_scenes)
    app.command("demo")(demo)
    app.command("brokers")(brokers)


def main() -> None:
    """Entry point."""
    _register()
    app()
