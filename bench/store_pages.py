"""What a terminal's status costs the store, by page size: ``python -m bench.store_pages``.

The district's writes are mostly statuses (~2,800 a second), each rewriting one
terminal's row of ``terminal_state`` and its index entries, and a transaction writes
every page it touched into the WAL whole. For each page size this builds a new file
with the gateway's schema, fills ``terminal_state`` with 170,000 terminals, then runs
intake-sized transactions (15 statuses of random terminals each, the gateway's own
upsert, ``synchronous=FULL``, a PASSIVE checkpoint every 230 transactions as the
gateway's checkpointer does about once a second) and reports the bytes written per
status and the transactions' times, against SQLite's default of 4,096 measured in the
same run. JSON in ``bench/results/store_pages.json``.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.procstat import written_bytes
from device_sim.terminals.stats import LatencyStats
from gateway.store import schema
from gateway.store.intake import SEEN_UPSERT

BASELINE = 4096
SIZES = (4096, 2048, 1024)
TERMINALS = 170_000
PER_TXN = 15
CHECKPOINT_EVERY = 230


def _written() -> int:
    written = written_bytes()
    if written is None:
        raise RuntimeError("/proc/self/io has no wchar")
    return written


def measure(path: Path, page_size: int, txns: int, seed: int = 1) -> dict[str, Any]:
    """One page size on a new file at ``path``."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA page_size = {page_size}")
        conn.execute("PRAGMA journal_mode = WAL")
        schema.migrate(conn)
        rng = random.Random(seed)
        ids = [f"T{i:06d}" for i in range(TERMINALS)]
        now = time.time()
        conn.execute("BEGIN")
        conn.executemany(SEEN_UPSERT, [(t, now - rng.uniform(0, 60), None, 80, -70, "1.0", None)
                                       for t in ids])  # fmt: skip
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        times: list[float] = []
        checkpoints = 0.0
        written, started = _written(), time.perf_counter()
        for n in range(txns):
            rows = [(rng.choice(ids), time.time(), None, 80, -70, "1.0", None)
                    for _ in range(PER_TXN)]  # fmt: skip
            begun = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(SEEN_UPSERT, rows)
            conn.execute("COMMIT")
            times.append(time.perf_counter() - begun)
            if n % CHECKPOINT_EVERY == CHECKPOINT_EVERY - 1:
                begun = time.perf_counter()
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                checkpoints += time.perf_counter() - begun
        elapsed = time.perf_counter() - started
        written = _written() - written
        pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    finally:
        conn.close()
    return {
        "page_size": page_size,
        "transactions": txns,
        "seconds": elapsed,
        "written_per_status_bytes": written / (txns * PER_TXN),
        # Unrounded: ``LatencyStats.to_json`` rounds to the millisecond, and these are less.
        "transaction_s": asdict(LatencyStats.of(times)),
        "checkpoint_s": checkpoints,
        "pages": pages,
        "file_bytes": pages * page_size,
    }


def run(results_dir: Path, quick: bool) -> dict[str, Any]:
    """Every page size, then the table and the JSON."""
    txns = 600 if quick else 3000
    with tempfile.TemporaryDirectory(prefix="store-pages-") as tmp:
        found = [measure(Path(tmp) / f"{size}.db", size, txns) for size in SIZES]
    base = next(r for r in found if r["page_size"] == BASELINE)
    for r in found:
        r["written_ratio"] = r["written_per_status_bytes"] / base["written_per_status_bytes"]
        r["time_ratio"] = r["seconds"] / base["seconds"]
    doc = {"terminals": TERMINALS, "statuses_per_transaction": PER_TXN, "runs": found}
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "store_pages.json").write_text(json.dumps(doc, indent=2))
    title = (f"A status's cost to the store, {TERMINALS:,} terminals, {txns:,} transactions"
             f" of {PER_TXN} (against {BASELINE:,}-byte pages)")  # fmt: skip
    table = Table(title=title)
    for column in ("page", "written / status", "×", "time", "×", "txn p50 / p99, ms",
                   "file"):  # fmt: skip
        table.add_column(column, justify="right")
    for r in found:
        t = r["transaction_s"]
        table.add_row(
            f"{r['page_size']:,} B", f"{r['written_per_status_bytes'] / 1024:.1f} KiB",
            f"{r['written_ratio']:.2f}", f"{r['seconds']:.2f} s", f"{r['time_ratio']:.2f}",
            f"{t['p50'] * 1e3:.2f} / {t['p99'] * 1e3:.2f}", f"{r['file_bytes'] / 1e6:.0f} MB",
        )  # fmt: skip
    Console().print(table)
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="600 transactions per size")
    parser.add_argument("--results-dir", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    run(args.results_dir, args.quick)


if __name__ == "__main__":
    main()
