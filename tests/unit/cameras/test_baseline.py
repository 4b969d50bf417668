"""Baseline learning per mode (pure) and its small-file persistence."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.cameras.baseline import Baselines, BaselineStore, accumulate, learn
from gateway.cameras.modes import Mode
from tests.unit.cameras.scenes import HEALTHY


def test_learn_takes_medians_and_normalises_the_edge_map() -> None:
    samples = [replace(HEALTHY, sharpness=s) for s in (0.01, 0.03, 0.5)]
    baseline = learn(samples, now=100.0)
    assert baseline.sharpness == 0.03
    assert baseline.probes == 3
    assert baseline.learned_at == 100.0
    assert sum(v * v for v in baseline.edge_map) == pytest.approx(1.0, abs=1e-3)


def test_learn_needs_a_sample() -> None:
    with pytest.raises(ValueError, match="at least one"):
        learn([], now=0.0)


def test_accumulate_returns_baseline_once_enough() -> None:
    pending, learned = accumulate((), HEALTHY, needed=2, now=1.0)
    assert learned is None
    assert len(pending) == 1
    pending, learned = accumulate(pending, HEALTHY, needed=2, now=2.0)
    assert pending == ()
    assert learned is not None
    assert learned.probes == 2


def test_learn_takes_per_cell_medians_where_most_probes_had_structure() -> None:
    cells = [(0.1, 0.0, 0.3), (0.3, 0.0, 0.0), (0.2, 0.5, 0.0)]
    baseline = learn([replace(HEALTHY, cell_sharpness=c) for c in cells], now=0.0)
    assert baseline.cell_sharpness == (0.2, 0.0, 0.0)


def test_each_mode_learns_its_own_baseline() -> None:
    night = replace(HEALTHY, mean_luma=20.0, noise=5.0)
    baselines, learned = Baselines().observe(Mode.DAY, HEALTHY, needed=2, now=1.0)
    assert learned is None
    baselines, learned = baselines.observe(Mode.NIGHT, night, needed=2, now=2.0)
    assert learned is None  # one probe of each mode so far
    baselines, learned = baselines.observe(Mode.NIGHT, night, needed=2, now=3.0)
    assert learned is not None
    assert learned.mode is Mode.NIGHT
    assert learned.noise == 5.0
    assert baselines.of(Mode.DAY) is None
    assert baselines.of(Mode.NIGHT) == learned
    baselines, learned = baselines.observe(Mode.DAY, HEALTHY, needed=2, now=4.0)
    assert learned is not None
    assert learned.noise == HEALTHY.noise
    assert set(baselines.learned) == {Mode.DAY, Mode.NIGHT}
    assert baselines.pending == {}
    again, nothing = baselines.observe(Mode.DAY, replace(HEALTHY, noise=9.0), 2, 5.0)
    assert nothing is None
    assert again == baselines  # a learned baseline stays fixed


def test_store_round_trip_and_delete(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path / "baselines")
    assert store.load_all() == {}
    learned = {Mode.DAY: learn([HEALTHY], 5.0), Mode.IR: learn([HEALTHY], 6.0, Mode.IR)}
    store.save("cam-1", learned)
    assert store.load_all() == {"cam-1": learned}
    store.delete("cam-1")
    assert store.load_all() == {}


def test_store_skips_corrupt_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = BaselineStore(tmp_path)
    store.save("good", {Mode.DAY: learn([HEALTHY], now=5.0)})
    (tmp_path / "bad.json").write_text("{not json")
    assert set(store.load_all()) == {"good"}
    assert "ignoring baseline" in caplog.text


def test_store_relearns_baselines_from_before_modes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = {"sharpness": 0.03, "noise": 2.0, "flat_fraction": 0.1, "spread": 150.0,
           "colour_cast": 0.05, "edge_map": [0.5], "learned_at": 1.0, "probes": 5}  # fmt: skip
    (tmp_path / "cam-1.json").write_text(json.dumps(old))
    assert BaselineStore(tmp_path).load_all() == {}
    assert "relearning" in caplog.text


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    for i in range(3):
        store.save("cam-1", {Mode.DAY: learn([HEALTHY], now=float(i))})
    assert [p.name for p in tmp_path.iterdir()] == ["cam-1.json"]
