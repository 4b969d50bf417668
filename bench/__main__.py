"""``make bench``: every benchmark, each against a baseline measured in the same run."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench import alarm_path, cameras, console, district, flood, store_pages, terminal_cost

RUNNERS = {
    "alarm_path": alarm_path.run,
    "cameras": cameras.run,
    "console": console.run,
    "flood": flood.run,
    "store_pages": store_pages.run,
    "terminal_cost": terminal_cost.run_default,
    "district": district.run_quick,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller loads (a smoke run)")
    parser.add_argument("--results-dir", type=Path, default=Path("bench/results"))
    parser.add_argument("--only", choices=tuple(RUNNERS), action="append", default=None)
    args = parser.parse_args()
    chosen = args.only or list(RUNNERS)
    summary = {name: RUNNERS[name](args.results_dir, args.quick) for name in chosen}
    (args.results_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))


if __name__ == "__main__":
    main()
