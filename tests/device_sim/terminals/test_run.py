from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from device_sim.terminals.cli import terminals
from device_sim.terminals.run import RunSpec

SPEC = RunSpec(
    Path("c.csv"), alert_rate=9.0, malformed_rate=3.0, storm=10, processes=3, seed=5, mqtt5=True,
    warmup=30.0,
)  # fmt: skip


def app() -> typer.Typer:
    application = typer.Typer()
    application.command()(terminals)
    return application


def test_shards_split_rates_and_storm() -> None:
    shards = [SPEC.for_shard(i, 100) for i in range(3)]
    assert sum(s.alert_rate for s in shards) == pytest.approx(9.0)
    assert sum(s.malformed_rate for s in shards) == pytest.approx(3.0)
    assert sum(s.storm for s in shards) == 10
    assert [s.seed for s in shards] == [5, 6, 7]
    assert all(s.progress_jsonl for s in shards)
    # Children start their scenarios on the parent's word, not each on its own.
    assert all(s.await_start for s in shards)
    assert all(s.fleet_options().hold_start for s in shards)
    assert not SPEC.fleet_options().hold_start


def test_child_arguments_are_real_options() -> None:
    command = typer.main.get_command(app())
    known = {opt for param in command.params for opt in getattr(param, "opts", [])}
    args = list(SPEC.for_shard(1, 100).to_args())
    flags = [a for a in args if a.startswith("--")]
    assert set(flags) <= known
    assert "--mqtt5" in flags
    assert "--progress-jsonl" in flags
    assert "--await-start" in flags
    assert args[args.index("--shard") + 1] == "1"
    assert args[args.index("--warmup") + 1] == "30.0"


def test_too_many_terminals_per_process_names_the_option() -> None:
    with pytest.raises(ValueError, match="--processes"):
        RunSpec(Path("c.csv")).check(50_000)
    RunSpec(Path("c.csv"), processes=3).check(50_000)


def test_bad_settings_are_refused_with_the_name(tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("terminal_id,password\nt1,p\n")
    result = CliRunner().invoke(app(), ["--credentials", str(csv), "--offline-fraction", "2"])
    assert result.exit_code == 2
    assert "offline_fraction" in result.output
    csv.write_text("who,pw\n")
    result = CliRunner().invoke(app(), ["--credentials", str(csv)])
    assert result.exit_code == 2
    assert "header" in result.output
