"""The fleet's progress bars: terminals online, alerts received and resolved."""

from __future__ import annotations

from rich.progress import Progress

from device_sim.terminals.summary import Snapshot


class FleetProgress:
    """A :class:`~device_sim.terminals.fleet.FleetObserver` drawing rich progress bars."""

    def __init__(self, progress: Progress, terminals: int) -> None:
        self._progress = progress
        self._online = progress.add_task("terminals online", total=terminals)
        self._received = progress.add_task("alerts received", total=0)
        self._resolved = progress.add_task("alerts resolved", total=0)

    def update(self, snapshot: Snapshot) -> None:
        """Redraw the bars from ``snapshot``."""
        bars = self._progress
        bars.update(self._online, completed=snapshot.online, total=snapshot.terminals)
        bars.update(self._received, completed=snapshot.received, total=snapshot.alerts)
        bars.update(self._resolved, completed=snapshot.resolved, total=snapshot.alerts)
