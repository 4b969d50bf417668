"""Baseline learning (pure) and its small-file persistence."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gateway.cameras.baseline import BaselineStore, accumulate, learn
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


def test_store_round_trip_and_delete(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path / "baselines")
    assert store.load_all() == {}
    baseline = learn([HEALTHY], now=5.0)
    store.save("cam-1", baseline)
    assert store.load_all() == {"cam-1": baseline}
    store.delete("cam-1")
    assert store.load_all() == {}


def test_store_skips_corrupt_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = BaselineStore(tmp_path)
    store.save("good", learn([HEALTHY], now=5.0))
    (tmp_path / "bad.json").write_text("{not json")
    assert set(store.load_all()) == {"good"}
    assert "ignoring baseline" in caplog.text


def test_save_leaves_no_temporary_files(tmp_path: Path) -> None:
    store = BaselineStore(tmp_path)
    for i in range(3):
        store.save("cam-1", learn([HEALTHY], now=float(i)))
    assert [p.name for p in tmp_path.iterdir()] == ["cam-1.json"]
