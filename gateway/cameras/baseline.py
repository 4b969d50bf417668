"""A camera's own normal picture, one per mode, learned from its first healthy probes.

Blur, occlusion, noise, colour cast, low contrast and scene change are judged against
what this very camera normally shows: a bare wall is never as sharp as a furnished
room. And against what it shows *in the same mode* (:mod:`gateway.cameras.modes`): a
corridor at night under its lamps is mostly dark and flat, noisier, and its edges sit
where the light falls; in infrared it is grey and lit from the camera. Compared with
its daytime self, every night would look covered, noisy and moved. So a camera keeps a
day, a night and an infrared baseline, each learned separately from ``baseline_probes``
healthy probes in that mode (the per-measure median), and then kept fixed, so a slowly
defocusing lens cannot drag it along. A mode not seen yet has no baseline: until it has
one, its pictures are judged by the rules that need none.

Baselines are persisted as one small JSON file per camera: after a restart a camera that
went bad in the meantime must still be compared with its healthy past, not learn the
fault as normal. Probes gathered towards a baseline not yet learned are not kept.
"""

from __future__ import annotations

import json
import logging
import os
import statistics
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import TypeAdapter, ValidationError

from gateway.cameras.analysis import Measures
from gateway.cameras.modes import Mode

log = logging.getLogger(__name__)

FORMAT = 2
"""Version of the baseline files; files of another version are relearned."""


@dataclass(frozen=True, slots=True)
class Baseline:
    """Medians of a camera's healthy measures in one mode.

    ``cell_sharpness``: for each cell of the 8x6 grid, its median sharpness over the
    learning probes in which it showed structure (0.0 if under half did);
    ``chromaticity`` the mean share of each channel (``None`` if too dark to read);
    ``edge_map`` is the reference view.
    """

    mode: Mode
    sharpness: float
    noise: float
    flat_fraction: float
    spread: float
    contrast: float
    colour_cast: float
    chromaticity: tuple[float, float, float] | None
    cell_sharpness: tuple[float, ...]
    edge_map: tuple[float, ...]
    learned_at: float
    probes: int


@dataclass(frozen=True, slots=True)
class Baselines:
    """A camera's learned baselines by mode, and the healthy probes gathered towards the
    modes it has none for yet."""

    learned: Mapping[Mode, Baseline] = field(default_factory=dict)
    pending: Mapping[Mode, tuple[Measures, ...]] = field(default_factory=dict)

    def of(self, mode: Mode) -> Baseline | None:
        """The baseline for ``mode``, if learned."""
        return self.learned.get(mode)

    def observe(
        self, mode: Mode, measures: Measures, needed: int, now: float
    ) -> tuple[Baselines, Baseline | None]:
        """Count one healthy probe in ``mode``; the new baseline once ``needed`` are in."""
        if mode in self.learned:
            return self, None
        pending, learned = accumulate(self.pending.get(mode, ()), measures, needed, now, mode)
        gathered = {**self.pending, mode: pending}
        if learned is None:
            return replace(self, pending=gathered), None
        gathered.pop(mode)
        return Baselines({**self.learned, mode: learned}, gathered), learned


_ADAPTER = TypeAdapter(dict[Mode, Baseline])


def learn(samples: Sequence[Measures], now: float, mode: Mode = Mode.DAY) -> Baseline:
    """The baseline of ``samples`` (at least one) in ``mode``, learned at ``now``."""
    if not samples:
        raise ValueError("a baseline needs at least one sample")
    maps = np.median(np.array([s.edge_map for s in samples], dtype=np.float64), axis=0)
    norm = float(np.linalg.norm(maps))
    reference = maps / norm if norm > 1e-9 else maps
    tints = [s.chromaticity for s in samples if s.chromaticity is not None]
    chroma = None
    if len(tints) * 2 > len(samples):
        median = np.median(np.array(tints, dtype=np.float64), axis=0)
        chroma = (
            round(float(median[0]), 5),
            round(float(median[1]), 5),
            round(float(median[2]), 5),
        )
    return Baseline(
        mode=mode,
        sharpness=statistics.median(s.sharpness for s in samples),
        noise=statistics.median(s.noise for s in samples),
        flat_fraction=statistics.median(s.flat_fraction for s in samples),
        spread=statistics.median(s.spread for s in samples),
        contrast=statistics.median(s.contrast for s in samples),
        colour_cast=statistics.median(s.colour_cast for s in samples),
        chromaticity=chroma,
        cell_sharpness=_cell_medians([s.cell_sharpness for s in samples]),
        edge_map=tuple(round(float(v), 5) for v in reference),
        learned_at=now,
        probes=len(samples),
    )


def _cell_medians(rows: Sequence[tuple[float, ...]]) -> tuple[float, ...]:
    """Per cell: the median over the rows where it has structure, if at least half do."""
    if not rows or any(len(row) != len(rows[0]) for row in rows):
        return ()
    found = []
    for values in zip(*rows, strict=True):
        detailed = [v for v in values if v > 0]
        found.append(
            round(statistics.median(detailed), 6) if len(detailed) * 2 >= len(values) else 0.0
        )
    return tuple(found)


def accumulate(
    pending: tuple[Measures, ...], measures: Measures, needed: int, now: float,
    mode: Mode = Mode.DAY,
) -> tuple[tuple[Measures, ...], Baseline | None]:  # fmt: skip
    """Add one healthy probe; once ``needed`` are in, return the learned baseline."""
    pending = (*pending, measures)
    if len(pending) < needed:
        return pending, None
    return (), learn(pending, now, mode)


class BaselineStore:
    """One JSON file per camera in ``directory``; writes are atomic (temp + rename)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def load_all(self) -> dict[str, dict[Mode, Baseline]]:
        """Every readable camera's baselines by camera id; unreadable files, and files of
        an older format (learned before there were modes), are logged and skipped."""
        found: dict[str, dict[Mode, Baseline]] = {}
        if not self._directory.is_dir():
            return found
        for path in sorted(self._directory.glob("*.json")):
            try:
                found[path.stem] = _parse(path.read_bytes())
            except (OSError, ValueError) as exc:
                log.warning("ignoring baseline %s, relearning it: %s", path, exc)
        return found

    def save(self, camera_id: str, learned: Mapping[Mode, Baseline]) -> None:
        """Replace the camera's baselines on disk."""
        self._directory.mkdir(parents=True, exist_ok=True)
        body = {"format": FORMAT, "modes": {m.value: asdict(b) for m, b in learned.items()}}
        write_atomically(self._path(camera_id), json.dumps(body).encode())

    def delete(self, camera_id: str) -> None:
        """Forget the camera's baseline (it will be learned again)."""
        self._path(camera_id).unlink(missing_ok=True)

    def _path(self, camera_id: str) -> Path:
        return self._directory / f"{camera_id}.json"


def _parse(data: bytes) -> dict[Mode, Baseline]:
    body: Any = json.loads(data)
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise ValueError(f"not a format {FORMAT} baseline file")
    try:
        return _ADAPTER.validate_python(body.get("modes"))
    except ValidationError as exc:
        raise ValueError(str(exc.errors()[0]["msg"])) from exc


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
