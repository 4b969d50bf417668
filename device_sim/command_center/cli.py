"""``python -m device_sim command-center``: the simulated district command center."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler

from device_sim.command_center.center import CommandCenter
from device_sim.command_center.modes import Mode, parse_control
from device_sim.command_center.options import CommandCenterOptions
from device_sim.command_center.responder import ResponderOptions
from device_sim.command_center.telephony import TelephonyOptions, parse_mix, parse_plan
from device_sim.report import counts_table, latency_table, make_console, print_tables

_FAIL = "Failure modes"
_RESPOND = "Responder"
_PHONE = "Responders called by the gateway (alert.dispatch)"


def _delays(text: str) -> tuple[float, float]:
    low, _, high = text.partition("-")
    try:
        return float(low), float(high or low)
    except ValueError:
        raise ValueError(f"answer_delay: expected LOW-HIGH seconds, got {text!r}") from None


def command_center(
    secret: Annotated[
        str, typer.Option(help="Standard Webhooks secret (whsec_…).", envvar="CC_WEBHOOK_SECRET")
    ],
    port: Annotated[int, typer.Option(help="Port for POST /webhook (0: any free port).")] = 8090,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    gateway_api: Annotated[
        str,
        typer.Option(
            help="Gateway API base URL, e.g. http://127.0.0.1:8080.", rich_help_panel=_RESPOND
        ),
    ] = "",
    gateway_token: Annotated[
        str,
        typer.Option(
            help="Bearer token for the gateway API.",
            envvar="CC_GATEWAY_TOKEN",
            rich_help_panel=_RESPOND,
        ),
    ] = "",
    responder: Annotated[
        str, typer.Option(help="Responder name sent as 'by'.", rich_help_panel=_RESPOND)
    ] = "District Command Center",
    accept_after: Annotated[
        float,
        typer.Option(help="Accept each alarm after S seconds (0: off).", rich_help_panel=_RESPOND),
    ] = 0.0,
    resolve_after: Annotated[
        float,
        typer.Option(help="Resolve S seconds after accepting (0: off).", rich_help_panel=_RESPOND),
    ] = 0.0,
    eta: Annotated[
        int, typer.Option(help="eta_s sent with accept.", rich_help_panel=_RESPOND)
    ] = 600,
    answers: Annotated[
        str,
        typer.Option(
            help="How the n-th call of each alarm is answered: accept|decline|never[:delay s],"
            " comma-separated, e.g. 'decline,never,accept:2'.",
            rich_help_panel=_PHONE,
        ),
    ] = "",
    answer_mix: Annotated[
        str,
        typer.Option(
            help="Calls beyond --answers: random weights, e.g. 'accept=0.6,decline=0.2,never=0.2'.",
            rich_help_panel=_PHONE,
        ),
    ] = "",
    answer_delay: Annotated[
        str,
        typer.Option(help="Delay range for --answer-mix, 'LOW-HIGH' s.", rich_help_panel=_PHONE),
    ] = "2-10",
    answer_eta: Annotated[
        int, typer.Option(help="eta_s a responder gives on accepting.", rich_help_panel=_PHONE)
    ] = 600,
    fail_rate: Annotated[
        float, typer.Option(help="Share of webhooks answered 5xx at random.", rich_help_panel=_FAIL)
    ] = 0.0,
    fail_status: Annotated[
        int, typer.Option(help="Status of random failures.", rich_help_panel=_FAIL)
    ] = 503,
    mode: Annotated[
        Mode, typer.Option(help="Failure mode at start.", rich_help_panel=_FAIL)
    ] = Mode.OK,
    mode_status: Annotated[
        int, typer.Option(help="Status answered in 'fail' mode.", rich_help_panel=_FAIL)
    ] = 503,
    mode_delay: Annotated[
        float, typer.Option(help="Delay in 'slow' mode, s.", rich_help_panel=_FAIL)
    ] = 2.0,
    mode_for: Annotated[
        float | None,
        typer.Option(help="The start mode lasts S seconds, then 'ok'.", rich_help_panel=_FAIL),
    ] = None,
    duration: Annotated[
        float, typer.Option(help="Stop after S seconds (0: run until Ctrl+C).")
    ] = 0.0,
    max_events: Annotated[
        int, typer.Option(help="Events kept in memory (all are counted).")
    ] = 1_000_000,
    seed: Annotated[int | None, typer.Option(help="Random seed for --fail-rate.")] = None,
    summary_json: Annotated[
        Path | None,
        typer.Option(help="Write GET /records (with events) here at exit.", dir_okay=False),
    ] = None,
) -> None:
    """Simulated command center: verify, dedup and record webhooks; accept and resolve alarms."""
    console = make_console()
    logging.basicConfig(
        level=logging.INFO, handlers=[RichHandler(console=console)], format="%(message)s"
    )
    start_mode = {
        "mode": mode.value,
        "status": mode_status,
        "delay_s": mode_delay,
        "for_s": mode_for,
    }
    try:
        telephony = TelephonyOptions(
            parse_plan(answers), parse_mix(answer_mix), _delays(answer_delay), answer_eta
        )
        options = CommandCenterOptions(
            secret=secret, host=host, port=port, gateway_api=gateway_api,
            gateway_token=gateway_token,
            responder=ResponderOptions(responder, accept_after, resolve_after, eta),
            telephony=telephony,
            fail_rate=fail_rate, fail_status=fail_status,
            initial_mode=parse_control(start_mode, time.time()),
            max_events=max_events, seed=seed,
        )  # fmt: skip
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    center = CommandCenter(options)
    asyncio.run(_serve(center, duration, console))
    records = center.records(with_events=summary_json is not None)
    if summary_json is not None:
        summary_json.write_text(json.dumps(records, indent=2) + "\n", "utf-8")
    render_records(console, records)


async def _serve(center: CommandCenter, duration: float, console: Console) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, center.stop)
    try:
        async with asyncio.TaskGroup() as tg:
            tg.create_task(center.run(), name="command-center")
            await center.wait_ready()
            console.print(f"command center listening on {center.url}/webhook")
            if duration > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(duration):
                        await center.wait_for(lambda _events: False)
                center.stop()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def render_records(console: Console, records: dict[str, Any]) -> None:
    """The end-of-run tables: events by type, rejects, responder calls, latency."""
    responder = records.get("responder", {})
    rows: list[tuple[str, object]] = [
        ("events (unique)", records["events"]),
        *((f"  {kind}", n) for kind, n in records["by_type"].items()),
        ("duplicates", records["duplicates"]),
        ("bad signatures", records["bad_signatures"]),
        ("bad events", records["bad_events"]),
        ("failed on purpose", records["failed_on_purpose"]),
        ("slowed on purpose", records["slowed"]),
        *((f"responder {name}", n) for name, n in responder.items() if name != "enabled"),
        *((f"calls {name}", n) for name, n in records.get("telephony", {}).items()
          if name not in ("enabled", "calls")),
    ]  # fmt: skip
    print_tables(
        console,
        counts_table("Command center", rows),
        latency_table("Latency (pressed_at → webhook)", records["latency_s"]),
    )
