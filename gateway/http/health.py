"""What ``/healthz`` checks: the store, each forwarder's backlog, each broker link.

A check returns a bool or a :class:`Health` (ok plus details shown under ``detail``);
it may be a coroutine, and one that does not answer within :data:`CHECK_TIMEOUT_S`
counts as failed. The answer is 200 when every check passes, else 503.
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.linkstate import LinkState
from gateway.store.outbox import Outbox

CHECK_TIMEOUT_S = 2.0
#: Below this much free space beside the database, the store reports degraded.
STORE_MIN_FREE_BYTES = 64 * 2**20


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)


Check = Callable[[], "bool | Health | Awaitable[Health]"]


async def run_checks(checks: Mapping[str, Check]) -> tuple[dict[str, bool], dict[str, Any]]:
    """Every check's verdict, and the details of those that have some."""
    verdicts: dict[str, bool] = {}
    details: dict[str, Any] = {}
    for name, check in checks.items():
        result = check()
        if inspect.isawaitable(result):
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_S):
                    result = await result
            except TimeoutError:
                result = Health(False, {"error": f"no answer in {CHECK_TIMEOUT_S:g} s"})
        if isinstance(result, Health):
            verdicts[name] = result.ok
            details[name] = result.detail
        else:
            verdicts[name] = bool(result)
    return verdicts, details


def link_check(state: LinkState) -> Check:
    return lambda: Health(state.connected, state.to_json())


def store_check(outbox: Outbox, path: Path) -> Check:
    """The database answers a query, and its disk has room."""
    directory = path.resolve().parent

    async def check() -> Health:
        try:
            await outbox.backlog()
        except Exception as exc:  # noqa: BLE001 - any failure is the verdict, shown as such
            return Health(False, {"error": str(exc)[:200]})
        free = shutil.disk_usage(directory).free
        return Health(free >= STORE_MIN_FREE_BYTES, {"free_bytes": free})

    return check


def backlog_check(
    outbox: Outbox, sinks: Sequence[str], max_age_s: float, clock: Callable[[], float] = time.time
) -> Check:
    """Each sink's undelivered events; degraded while the oldest is older than ``max_age_s``."""

    async def check() -> Health:
        backlog, now = await outbox.backlog(), clock()
        detail: dict[str, Any] = {}
        ok = True
        for sink in sinks:
            pending, oldest = backlog.get(sink, (0, None))
            age = None if oldest is None else max(0.0, now - oldest)
            detail[sink] = {"pending": pending, "oldest_s": age}
            ok = ok and (age is None or age <= max_age_s)
        return Health(ok, detail)

    return check
