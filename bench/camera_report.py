"""The camera bench's summary on the console (rich tables); the JSON has every number."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_summary(console: Console, results: dict[str, Any]) -> None:
    """Sweeps, the decoding comparison, the soak and the fault matrix."""
    config = results["config"]
    console.print(
        f"\n[bold]camera monitor[/bold]: {config['cameras']} simulated cameras,"
        f" concurrency {config['concurrency']}, interval {config['interval_seconds']:g} s,"
        f" {results['machine']['cpus']} CPUs, run took {results['duration_seconds']:.0f} s"
    )
    console.print(_sweeps(results["sweeps"]))
    verdict = results["sweep"]
    console.print(
        f"sweep target ≤ {verdict['target_wall_seconds']:g} s on ≤ {verdict['target_cores']:g}"
        f" core: slowest warm sweep {verdict['wall_seconds']:.1f} s,"
        f" {verdict['gateway_cores']:.2f} cores  {_mark(verdict['met'])}"
    )
    _print_ratio(console, results["decoding"], results["ratio"])
    if results["soak"] is not None:
        _print_soak(console, results["soak"])
    console.print(_detection(results["detection"]))
    if results.get("scene_set") is not None:
        _print_scene_set(console, results["scene_set"])
    if results.get("day_night_soak") is not None:
        _print_night_soak(console, results["day_night_soak"])


def _sweeps(sweeps: list[dict[str, Any]]) -> Table:
    table = Table(title="sweeps: every camera probed once (probe_now, monitor's concurrency)")
    for column in (
        "sweep", "probes", "reachable", "wall s", "worker CPU s", "CPU s/check",
        "monitor CPU s", "cores", "probe p50/p95 s", "farm CPU s",
    ):  # fmt: skip
        table.add_column(column, justify="right")
    for s in sweeps:
        spread = s["probe_seconds"] or {"p50": 0.0, "p95": 0.0}
        table.add_row(
            s["label"],
            str(s["probes"]),
            str(s["reachable"]),
            f"{s['wall_seconds']:.1f}",
            f"{s['worker_cpu_seconds']:.2f}",
            _num(s["cpu_seconds_per_check"], 4),
            f"{s['monitor_cpu_seconds']:.2f}",
            f"{s['gateway_cores']:.2f}",
            f"{spread['p50']:.2f}/{spread['p95']:.2f}",
            f"{s['farm_cpu_seconds']:.2f}",
        )
    return table


def _print_ratio(console: Console, decoding: dict[str, Any], ratio: dict[str, Any]) -> None:
    console.print(
        f"continuous decoding: {decoding['streams_decoded']} streams for"
        f" {decoding['seconds']:.1f} s, {_num(decoding['frames_per_stream_second'], 1)}"
        f" frames/s each, {_num(decoding['cpu_seconds_per_stream_second'], 5)} CPU s per"
        f" stream-second"
    )
    console.print(
        f"CPU per check {_num(ratio['cpu_seconds_per_check'], 4)} s / decoding one stream for"
        f" {ratio['interval_seconds']:g} s {_num(ratio['continuous_cpu_seconds_per_interval'], 3)}"
        f" s = ratio [bold]{_num(ratio['value'], 3)}[/bold]"
        f" (with the monitor process {_num(ratio['value_with_monitor'], 3)});"
        f" target ≤ {ratio['target']:g}  {_mark(ratio['met'])}"
    )


def _print_soak(console: Console, soak: dict[str, Any]) -> None:
    console.print(
        f"soak: {soak['minutes']:g} min, {soak['cameras']} healthy cameras,"
        f" {soak['probes']} probes in {soak['sweeps_completed']:g} sweeps:"
        f" [bold]{soak['false_faults']}[/bold] false faults {soak['false_faults_by_kind']},"
        f" {soak['incidents']} incidents, {soak['probes_skipped']} skipped,"
        f" {soak['gateway_cores']:.2f} cores  "
        f"{_mark(soak['met'])}"
    )


def _detection(detection: dict[str, Any]) -> Table:
    title = (
        f"fault matrix: {detection['cameras_per_fault']} camera(s) per fault,"
        f" {detection['rounds']} probe round(s); healthy probes"
        f" {detection['healthy']['probes']}, false alarms"
        f" {detection['healthy']['false_alarms']}"
    )
    table = Table(title=title)
    for column in ("injected", "expected", "probes", "tp", "fn", "fp", "precision", "recall"):
        table.add_column(column, justify="right")
    table.add_column("reported", justify="left")
    for fault, row in detection["by_fault"].items():
        reported = ", ".join(f"{kind}×{count}" for kind, count in row["reported"].items())
        table.add_row(
            fault,
            "/".join(row["expected"]),
            str(row["probes"]),
            str(row["tp"]),
            str(row["fn"]),
            str(row["fp"]),
            _num(row["precision"], 2),
            _num(row["recall"], 2),
            reported,
        )
    if detection["unexpected"]:
        table.caption = f"unexpected: {detection['unexpected']}"
    return table


CONDITIONS = ("day", "night", "ir")


def _print_scene_set(console: Console, scenes: dict[str, Any]) -> None:
    """Recall / precision per fault kind and condition, and the clean probes' verdict."""
    title = (
        f"labelled scene set: {scenes['cameras']} cameras, {scenes['probes']} probes"
        f" ({scenes['clean_probes']} clean), 3 strengths per fault, {scenes['seconds']:.0f} s"
    )
    table = Table(title=title)
    table.add_column("fault", justify="left")
    for column in (*CONDITIONS, "all"):
        table.add_column(f"{column} recall/prec", justify="right")
    table.add_column("reported (all conditions)", justify="left")
    for fault, row in scenes["overall"]["by_fault"].items():
        cells = [_pair(scenes, fault, condition) for condition in CONDITIONS]
        reported = ", ".join(f"{k}×{n}" for k, n in row["reported"].items())
        table.add_row(fault, *cells, _pr(row), reported)
    console.print(table)
    for key, why in scenes["not_judged"].items():
        console.print(f"  * {key}: not judged by design - {why}")
    clean, cold = scenes["false_faults_on_clean"], scenes["false_faults_on_clean_cold_start"]
    console.print(
        f"clean probes with a fault: [bold]{len(clean)}[/bold] of {scenes['clean_probes']}"
        f" with baselines, [bold]{len(cold)}[/bold] of {scenes['cold_start_probes']} before"
        f" any baseline; recall target ≥ {scenes['target_recall']:g} per fault and condition;"
        f" below it: {scenes['below_target'] or 'none'}  {_mark(scenes['met'])}"
    )


def _pair(scenes: dict[str, Any], fault: str, condition: str) -> str:
    row = scenes["by_condition"][condition]["by_fault"][fault]
    marker = " *" if f"{fault}/{condition}" in scenes["not_judged"] else ""
    return _pr(row) + marker


def _pr(row: dict[str, Any]) -> str:
    return f"{_num(row['recall'], 2)}/{_num(row['precision'], 2)}"


def _print_night_soak(console: Console, soak: dict[str, Any]) -> None:
    console.print(
        f"day/night soak: {soak['cameras']} healthy cameras, {soak['simulated_hours']:g} h"
        f" of simulated time each (afternoon to morning), {soak['probes']} probes"
        f" {soak['probes_by_condition']}: [bold]{soak['false_faults']}[/bold] false faults"
        f" {soak['false_faults_by_kind']}, [bold]{soak['false_pages']}[/bold] false pages,"
        f" {soak['seconds']:.0f} s  {_mark(soak['met'])}"
    )


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _mark(met: bool) -> str:
    return "[green]met[/green]" if met else "[red]missed[/red]"
