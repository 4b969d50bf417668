"""Putting a changed terminal registry in force while the gateway runs.

Triggered by SIGHUP (``systemctl reload``, ``python -m gateway reload``) or by
``POST /api/v1/registry/reload``. The new file is read and checked completely before
anything changes; then one :meth:`~gateway.registry.RegistryHolder.swap` puts it in
force for every reader at once. A file that does not load is rejected — counted,
logged with the line at fault — and the registry in force stays as it was.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gateway import metrics
from gateway.errors import RegistryError
from gateway.registry import Registry, RegistryHolder, load_registry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RegistryChange:
    """How a new registry differs from the one it replaces."""

    added: int = 0
    removed: int = 0
    moved: int = 0  # same terminal, another region
    edited: int = 0  # same terminal and region, other name or phone


def compare(old: Registry, new: Registry) -> RegistryChange:
    """Count what changes from ``old`` to ``new``."""
    kept = old.keys() & new.keys()
    moved = sum(1 for t in kept if old[t].region != new[t].region)
    edited = sum(1 for t in kept if old[t].region == new[t].region and old[t] != new[t])
    return RegistryChange(len(new.keys() - old.keys()), len(old.keys() - new.keys()), moved, edited)


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a reload did: the registry in force afterwards, and the change or the error."""

    applied: bool
    terminals: int
    change: RegistryChange
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"applied": self.applied, "terminals": self.terminals, **asdict(self.change),
                **({"error": self.error} if self.error else {})}  # fmt: skip


class RegistryReloader:
    """``request()`` (from a signal handler) or ``await reload()``; ``run()`` serves requests."""

    def __init__(
        self,
        holder: RegistryHolder,
        path: Path,
        *,
        site_district: str | None = None,
        check: Callable[[Registry], None] = lambda registry: None,
        on_swapped: Callable[[], None] = lambda: None,
    ) -> None:
        self._holder = holder
        self._path = path
        self._site_district = site_district
        self._check = check  # what must also hold (zones agree with the running links …)
        self._on_swapped = on_swapped  # after a new registry is in force (gcpause.freeze)
        self._lock = asyncio.Lock()
        self._requested = asyncio.Event()
        metrics.REGISTRY_TERMINALS.set(len(holder))

    def request(self) -> None:
        """Ask for a reload soon (safe to call from a loop signal handler)."""
        self._requested.set()

    async def run(self) -> None:
        while True:
            await self._requested.wait()
            self._requested.clear()
            await self.reload()

    async def reload(self) -> ReloadResult:
        """Read the file again; put it in force if it loads, else keep the old one."""
        async with self._lock:
            try:
                new = await asyncio.to_thread(load_registry, self._path, self._site_district)
                self._check(new)
            except RegistryError as exc:
                return self._rejected(exc)
            change = compare(self._holder.current, new)
            self._holder.swap(new)
        self._on_swapped()
        metrics.REGISTRY_RELOADS.labels("applied").inc()
        metrics.REGISTRY_TERMINALS.set(len(new))
        log.info(
            "registry reloaded: %d terminals (%d added, %d removed, %d moved, %d edited)",
            len(new), change.added, change.removed, change.moved, change.edited,
        )  # fmt: skip
        return ReloadResult(True, len(new), change)

    def _rejected(self, exc: RegistryError) -> ReloadResult:
        metrics.REGISTRY_RELOADS.labels("rejected").inc()
        log.error(
            "registry reload rejected, the %d terminals in force stay: %s", len(self._holder), exc
        )
        return ReloadResult(False, len(self._holder), RegistryChange(), str(exc))
