"""``python -m gateway elders …``: import elders' records, or write sample ones."""

from __future__ import annotations

import asyncio
import getpass
import time
from pathlib import Path
from typing import Annotated

import typer

from gateway.config import load_config
from gateway.core.elders import ElderRecord, RecordError
from gateway.dispatch.elders_csv import format_elders, read_elders
from gateway.dispatch.sample import sample_records
from gateway.errors import GatewayError
from gateway.registry import load_registry
from gateway.store.db import open_database
from gateway.store.elders import ElderStore

app = typer.Typer(help="Elders' records: address, access, medical notes, contacts.")


def _fail(message: object) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@app.command("import")
def import_elders(
    csv_file: Annotated[
        Path, typer.Argument(help="elders.csv (see gateway/dispatch/elders_csv.py).")
    ],
    config: Annotated[Path, typer.Option("--config", "-c", help="The gateway's TOML config.")],
    actor: Annotated[str, typer.Option(help="Who imports (audit log).")] = "",
) -> None:
    """Store every record of the file in the gateway's database (all or nothing, audited)."""
    try:
        cfg = load_config(config)
        registry = load_registry(cfg.registry.path)
        records = read_elders(csv_file, registry)
        counts = asyncio.run(_import(cfg.store.path, records, actor or getpass.getuser(), csv_file))
    except (GatewayError, RecordError) as exc:
        raise _fail(exc) from exc
    typer.echo(", ".join(f"{n} {what}" for what, n in counts.items()) + f" from {csv_file}")


async def _import(
    path: Path, records: list[ElderRecord], actor: str, source: Path
) -> dict[str, int]:
    async with open_database(path) as db:
        return await ElderStore(db).import_records(records, actor, str(source), time.time())


@app.command("sample")
def sample(
    registry: Annotated[Path, typer.Option(help="terminals.csv to write records for.")],
    out: Annotated[Path, typer.Option(help="Where to write elders.csv.")],
    seed: int = 11,
) -> None:
    """Write plausible records (for a demo district) for every registered terminal."""
    try:
        terminals = list(load_registry(registry).values())
    except GatewayError as exc:
        raise _fail(exc) from exc
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(format_elders(sample_records(terminals, seed)), encoding="utf-8")
    typer.echo(f"{len(terminals)} records written to {out}")
