"""A camera's own normal picture, learned from its first healthy probes.

Blur, occlusion, noise, colour cast and scene change are judged against what this very
camera normally shows: a bare wall is never as sharp as a furnished room. The baseline is
the per-measure median of ``baseline_probes`` healthy probes and is then kept fixed, so a
slowly defocusing lens cannot drag it along.

Baselines are persisted as small JSON files: after a restart a camera that went bad in
the meantime must still be compared with its healthy past, not learn the fault as normal.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from pydantic import TypeAdapter, ValidationError

from gateway.cameras.analysis import Measures

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Baseline:
    """Medians of a camera's healthy measures; ``edge_map`` is its reference view."""

    sharpness: float
    noise: float
    flat_fraction: float
    spread: float
    colour_cast: float
    edge_map: tuple[float, ...]
    learned_at: float
    probes: int


_ADAPTER = TypeAdapter(Baseline)


def learn(samples: Sequence[Measures], now: float) -> Baseline:
    """The baseline of ``samples`` (at least one), learned at ``now``."""
    if not samples:
        raise ValueError("a baseline needs at least one sample")
    maps = np.median(np.array([s.edge_map for s in samples], dtype=np.float64), axis=0)
    norm = float(np.linalg.norm(maps))
    reference = maps / norm if norm > 1e-9 else maps
    return Baseline(
        sharpness=statistics.median(s.sharpness for s in samples),
        noise=statistics.median(s.noise for s in samples),
        flat_fraction=statistics.median(s.flat_fraction for s in samples),
        spread=statistics.median(s.spread for s in samples),
        colour_cast=statistics.median(s.colour_cast for s in samples),
        edge_map=tuple(round(float(v), 5) for v in reference),
        learned_at=now,
        probes=len(samples),
    )


def accumulate(
    pending: tuple[Measures, ...], measures: Measures, needed: int, now: float
) -> tuple[tuple[Measures, ...], Baseline | None]:
    """Add one healthy probe; once ``needed`` are in, return the learned baseline."""
    pending = (*pending, measures)
    if len(pending) < needed:
        return pending, None
    return (), learn(pending, now)


class BaselineStore:
    """One JSON file per camera in ``directory``; writes are atomic (temp + rename)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def load_all(self) -> dict[str, Baseline]:
        """Every readable baseline by camera id; unreadable files are logged and skipped."""
        found: dict[str, Baseline] = {}
        if not self._directory.is_dir():
            return found
        for path in sorted(self._directory.glob("*.json")):
            try:
                found[path.stem] = _ADAPTER.validate_json(path.read_bytes())
            except (OSError, ValidationError) as exc:
                log.warning("ignoring baseline %s: %s", path, exc)
        return found

    def save(self, camera_id: str, baseline: Baseline) -> None:
        """Replace the camera's baseline on disk."""
        self._directory.mkdir(parents=True, exist_ok=True)
        write_atomically(self._path(camera_id), json.dumps(asdict(baseline)).encode())

    def delete(self, camera_id: str) -> None:
        """Forget the camera's baseline (it will be learned again)."""
        self._path(camera_id).unlink(missing_ok=True)

    def _path(self, camera_id: str) -> Path:
        return self._directory / f"{camera_id}.json"


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new file, whole."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
