"""Progress bars and summary tables shared by the simulators' command lines (rich)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

PERCENTILES = ("p50", "p90", "p99", "max")


def make_console() -> Console:
    """The console the simulators draw on (stderr, so stdout stays machine-readable)."""
    return Console(stderr=True)


def make_progress(console: Console) -> Progress:
    """Progress bars with a description, a bar, ``done/total`` and the elapsed time."""
    return Progress(
        TextColumn("[bold]{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def format_seconds(value: float | None) -> str:
    """``0.123 s`` as ``123 ms``; ``-`` for nothing."""
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def counts_table(title: str, rows: Iterable[tuple[str, object]]) -> Table:
    """A two-column table of named values."""
    table = Table(title=title, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    for name, value in rows:
        table.add_row(name, str(value))
    return table


def latency_table(title: str, latency: Mapping[str, Mapping[str, Any]]) -> Table:
    """One row per latency series: count, p50, p90, p99, max (values in seconds)."""
    table = Table(title=title, title_justify="left")
    table.add_column("series")
    table.add_column("count", justify="right")
    for name in PERCENTILES:
        table.add_column(name, justify="right")
    for series, stats in latency.items():
        table.add_row(
            series,
            str(stats.get("count", 0)),
            *(format_seconds(stats.get(name)) for name in PERCENTILES),
        )
    return table


def print_tables(console: Console, *tables: Table) -> None:
    """Print tables one after the other."""
    for table in tables:
        console.print(table)
