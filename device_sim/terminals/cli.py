"""``python -m device_sim terminals``: a fleet of simulated elder terminals on a broker."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from device_sim.report import make_console, make_progress
from device_sim.terminals.credentials import CredentialsError, load_credentials
from device_sim.terminals.fleet import FleetObserver, endpoints
from device_sim.terminals.processes import ChildFailedError, run_processes
from device_sim.terminals.progress import FleetProgress
from device_sim.terminals.run import (
    JsonLinesProgress,
    RunSpec,
    render_summary,
    run_fleet,
    write_summary,
)
from device_sim.terminals.summary import Summary
from firmware_protocol.messages import Stage

_SCENARIO = "Scenario"
_FLEET = "Fleet"


async def _run(spec: RunSpec, observer: FleetObserver | None) -> Summary:
    if spec.processes > 1 and spec.shard_index is None:
        return await run_processes(spec, observer)
    return await run_fleet(spec, observer)


def terminals(
    credentials: Annotated[
        Path,
        typer.Option(
            help="CSV with header terminal_id,password[,broker]; broker: mqtt(s)://HOST:PORT.",
            dir_okay=False,
        ),
    ],
    broker_host: Annotated[
        str, typer.Option(help="Broker host (terminals without a broker URL).")
    ] = "127.0.0.1",
    broker_port: Annotated[
        int, typer.Option(help="Broker port (terminals without a broker URL).")
    ] = 1883,
    tls: Annotated[
        bool, typer.Option(help="TLS to --broker-host/--broker-port (mqtts:// URLs always).")
    ] = False,
    ca_file: Annotated[
        Path | None,
        typer.Option(help="Site CA (PEM) that broker certificates are verified against."),
    ] = None,
    count: Annotated[int | None, typer.Option(help="Use the first N credentials.")] = None,
    mqtt5: Annotated[bool, typer.Option(help="MQTT 5 instead of 3.1.1.")] = False,
    keepalive: Annotated[int, typer.Option(help="MQTT keepalive, seconds.")] = 60,
    duration: Annotated[
        float, typer.Option(help="Scenario length, s.", rich_help_panel=_SCENARIO)
    ] = 60.0,
    alert_rate: Annotated[
        float, typer.Option(help="Presses per second, whole fleet.", rich_help_panel=_SCENARIO)
    ] = 0.0,
    kinds: Annotated[
        str,
        typer.Option(help="Kind weights, e.g. 'emergency=3,meal=1'.", rich_help_panel=_SCENARIO),
    ] = "",
    health_interval: Annotated[
        float, typer.Option(help="Health report period, s (0: off).", rich_help_panel=_FLEET)
    ] = 0.0,
    status_interval: Annotated[
        float, typer.Option(help="Status report period, s.", rich_help_panel=_FLEET)
    ] = 60.0,
    dangerous_fraction: Annotated[
        float,
        typer.Option(help="Share of health reports with dangerous vitals.", rich_help_panel=_FLEET),
    ] = 0.0,
    self_test_interval: Annotated[
        float, typer.Option(help="Self-test alert period, s (0: off).", rich_help_panel=_FLEET)
    ] = 0.0,
    offline_fraction: Annotated[
        float,
        typer.Option(help="Share of terminals that drop off once.", rich_help_panel=_SCENARIO),
    ] = 0.0,
    offline_for: Annotated[
        float,
        typer.Option(help="How long a dropped terminal stays away, s.", rich_help_panel=_SCENARIO),
    ] = 10.0,
    malformed_rate: Annotated[
        float,
        typer.Option(help="Malformed payloads per second, whole fleet.", rich_help_panel=_SCENARIO),
    ] = 0.0,
    storm: Annotated[
        int,
        typer.Option(
            help="Emergency presses from distinct terminals in one burst.",
            rich_help_panel=_SCENARIO,
        ),
    ] = 0,
    storm_window: Annotated[
        float, typer.Option(help="The burst's length, s.", rich_help_panel=_SCENARIO)
    ] = 10.0,
    storm_at: Annotated[
        float,
        typer.Option(help="When the burst starts, s into the scenario.", rich_help_panel=_SCENARIO),
    ] = 1.0,
    grace: Annotated[
        float,
        typer.Option(
            help="After the scenario, wait up to this for acks, s.", rich_help_panel=_SCENARIO
        ),
    ] = 10.0,
    settle_stage: Annotated[
        Stage,
        typer.Option(
            help="The grace wait ends when every help request reached this stage.",
            rich_help_panel=_SCENARIO,
        ),
    ] = Stage.RECEIVED,
    connect_concurrency: Annotated[
        int, typer.Option(help="Connection attempts in flight.", rich_help_panel=_FLEET)
    ] = 200,
    connect_rate: Annotated[
        float,
        typer.Option(
            help="Connection attempts per second, all processes (0: no pacing).",
            rich_help_panel=_FLEET,
        ),
    ] = 0.0,
    connect_timeout: Annotated[
        float,
        typer.Option(
            help="Start the scenario after this even if not all are online, s.",
            rich_help_panel=_FLEET,
        ),
    ] = 120.0,
    warmup: Annotated[
        float,
        typer.Option(
            help="Once all are online, wait this long before the scenario starts, s.",
            rich_help_panel=_FLEET,
        ),
    ] = 0.0,
    processes: Annotated[
        int, typer.Option(help="Split the fleet across K child processes.", rich_help_panel=_FLEET)
    ] = 1,
    seed: Annotated[int | None, typer.Option(help="Random seed for a repeatable plan.")] = None,
    summary_json: Annotated[
        Path | None, typer.Option(help="Write the summary as JSON here.", dir_okay=False)
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
    strict: Annotated[
        bool, typer.Option(help="Exit with status 1 when an alert was lost.")
    ] = False,
    shard: Annotated[int | None, typer.Option(hidden=True)] = None,
    progress_jsonl: Annotated[bool, typer.Option(hidden=True)] = False,
    await_start: Annotated[bool, typer.Option(hidden=True)] = False,
) -> None:
    """Simulated elder terminals: connect, press buttons, report, and count the acks."""
    spec = RunSpec(
        credentials=credentials,
        broker_host=broker_host,
        broker_port=broker_port,
        count=count,
        mqtt5=mqtt5,
        keepalive=keepalive,
        duration=duration,
        alert_rate=alert_rate,
        kinds=kinds,
        health_interval=health_interval,
        status_interval=status_interval,
        dangerous_fraction=dangerous_fraction,
        self_test_interval=self_test_interval,
        offline_fraction=offline_fraction,
        offline_for=offline_for,
        malformed_rate=malformed_rate,
        storm=storm,
        storm_window=storm_window,
        storm_at=storm_at,
        grace=grace,
        settle_stage=settle_stage,
        connect_concurrency=connect_concurrency,
        connect_timeout=connect_timeout,
        warmup=warmup,
        processes=processes,
        seed=seed,
        tls=tls,
        ca_file=ca_file,
        connect_rate=connect_rate,
        shard_index=shard,
        progress_jsonl=progress_jsonl,
        await_start=await_start,
    )
    console = make_console()
    logging.basicConfig(
        level=logging.INFO, handlers=[RichHandler(console=console)], format="%(message)s"
    )
    try:
        loaded = load_credentials(credentials, count)
        total = len(loaded)
        spec.check(total)
        endpoints(spec.broker(), loaded)
    except (CredentialsError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    try:
        summary = _execute(spec, console, total, progress)
    except ChildFailedError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(2) from exc
    if summary_json is not None:
        write_summary(summary_json, summary, samples=shard is not None)
    if shard is None:
        render_summary(console, summary)
    if strict and summary.lost:
        raise typer.Exit(1)


def _execute(spec: RunSpec, console: Console, total: int, progress: bool) -> Summary:
    if spec.progress_jsonl:
        return asyncio.run(_run(spec, JsonLinesProgress()))
    if not progress:
        return asyncio.run(_run(spec, None))
    with make_progress(console) as bars:
        return asyncio.run(_run(spec, FleetProgress(bars, total)))
