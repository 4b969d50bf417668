"""Each camera's health state on disk, so an open incident survives a gateway restart.

Without it a restart during an outage would open a second incident (a second page) and a
camera that recovered meanwhile would never be announced restored. One small JSON file
per camera, written atomically whenever the state changes.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from gateway.cameras.baseline import write_atomically
from gateway.cameras.health import CameraState, state_from_dict, state_to_dict

log = logging.getLogger(__name__)


class IncidentStore:
    """One JSON file per camera in ``directory``; writes are atomic (temp + rename)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def load(self, fresh: CameraState) -> CameraState:
        """``fresh`` continued from the camera's saved state; ``fresh`` itself if there is
        none or it is unreadable (logged)."""
        path = self._path(fresh.identity.camera_id)
        try:
            return state_from_dict(fresh, json.loads(path.read_bytes()))
        except FileNotFoundError:
            return fresh
        except (OSError, ValueError) as exc:
            log.warning("ignoring camera state %s, starting fresh: %s", path, exc)
            return fresh

    def save(self, state: CameraState) -> None:
        """Replace the camera's saved state on disk."""
        self._directory.mkdir(parents=True, exist_ok=True)
        data = json.dumps(state_to_dict(state)).encode()
        write_atomically(self._path(state.identity.camera_id), data)

    def _path(self, camera_id: str) -> Path:
        return self._directory / f"{camera_id}.json"
