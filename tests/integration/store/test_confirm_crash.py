"""A gateway killed right after the command center confirmed a delivery strands nothing.

The process dies (as under kill -9) before the k-th write transaction that follows the
command center's 200; a new process on the same file must still bring the alert to
``delivered`` — either the confirmation committed, or the outbox row is still there to be
delivered again (the command center deduplicates on the event id).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import httpx
import pytest
from standardwebhooks import Webhook

from firmware_protocol.messages import Alert, Health, Vitals
from gateway.core.backoff import Backoff
from gateway.forward.forwarder import Forwarder
from gateway.forward.webhook import WebhookSink
from gateway.store.db import Database, open_database
from gateway.store.direct import Body, T
from gateway.store.outbox import Outbox
from tests.integration.store.helpers import T0, FakeAcks, FakeClock, alert, rows, store

pytestmark = pytest.mark.integration

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
LEASE_S = 30.0


class Killed(BaseException):
    """The process is gone: nothing after this point runs."""


class DyingDatabase(Database):
    """A database whose process dies before the ``k``-th transaction once ``armed``."""

    def __init__(self, db: Database, k: int) -> None:
        super().__init__(db.writer, db.reader)
        self.k = k
        self.armed = False
        self.after = 0

    def _die_now(self) -> None:
        if self.armed:
            self.after += 1
            if self.after >= self.k:
                raise Killed

    @asynccontextmanager
    async def transaction(
        self, name: str = "other", urgent: bool = False
    ) -> AsyncIterator[aiosqlite.Connection]:
        self._die_now()
        async with super().transaction(name, urgent) as conn:
            yield conn

    async def run(self, name: str, body: Body[T], urgent: bool = False) -> T:
        self._die_now()
        return await super().run(name, body, urgent)


class CommandCenter:
    """Records each event id it confirms; arms the crash on its first 200."""

    def __init__(self) -> None:
        self.dying: DyingDatabase | None = None
        self.confirmed: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        payload = Webhook(SECRET).verify(request.content, dict(request.headers))
        self.confirmed.extend(event["event_id"] for event in payload["events"])
        if self.dying is not None:
            self.dying.armed = True
        return httpx.Response(200)


def forwarder(db: Database, client: httpx.AsyncClient, clock: FakeClock) -> Forwarder:
    return Forwarder(
        WebhookSink("http://cc.test/webhook", SECRET, client), Outbox(db), acks=FakeAcks(),
        confirms_terminals=True, lease_s=LEASE_S, retry_for_s=3600.0,
        backoff=Backoff(base=1.0, cap=1.0), clock=clock,
    )  # fmt: skip


async def died(fw: Forwarder) -> bool:
    """Run ``fw`` until its process is killed; True if it was."""
    try:
        async with asyncio.timeout(10):
            await fw.run()
    except Killed:
        return True
    except BaseExceptionGroup as group:
        return group.subgroup(Killed) is not None
    return False


async def until_delivered(db: Database, fw: Forwarder) -> None:
    """Run ``fw`` until the alert is ``delivered`` and nothing is owed to the sink."""

    async def done() -> bool:
        [alarm] = await rows(db, "SELECT stage FROM alerts")
        return alarm["stage"] == "delivered" and not await Outbox(db).backlog()

    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(fw.run())
        async with asyncio.timeout(10):
            while not await done():
                fw.wake()
                await asyncio.sleep(0.01)
        task.cancel()


async def killed_and_restarted(path: Path, k: int, *messages: Alert | Health) -> list[str]:
    """Store ``messages``, kill the forwarding process before the ``k``-th transaction
    after the command center's first 200, forward again from a new process on the same
    file; the event ids the command center confirmed."""
    clock = FakeClock(T0)
    center = CommandCenter()
    async with httpx.AsyncClient(transport=httpx.MockTransport(center)) as client:
        async with open_database(path, "NORMAL") as db:
            await store(db, *messages, now=T0)
            center.dying = DyingDatabase(db, k)
            assert await died(forwarder(center.dying, client, clock))

        # A new process on the same file, once any lease of the dead one ran out.
        clock.advance(LEASE_S + 1)
        center.dying = None
        async with open_database(path, "NORMAL") as db:
            await until_delivered(db, forwarder(db, client, clock))
            assert await rows(db, "SELECT * FROM outbox") == []
    return center.confirmed


@pytest.mark.parametrize("k", [1, 2, 3])
async def test_kill_after_the_command_center_confirmed_strands_no_alert(
    tmp_path: Path, k: int
) -> None:
    confirmed = await killed_and_restarted(tmp_path / "gateway.db", k, alert("b1"))

    assert set(confirmed) == {"alert:T0001:b1"}


@pytest.mark.parametrize("k", [1, 2, 3])
async def test_kill_after_the_command_center_confirmed_loses_no_health_report(
    tmp_path: Path, k: int
) -> None:
    """Reports go by the health feed: the new process starts from the stored cursor."""
    reports = [Health("T0001", f"r{n}", T0, Vitals(steps=n)) for n in range(5)]

    confirmed = await killed_and_restarted(tmp_path / "gateway.db", k, alert("b1"), *reports)

    assert set(confirmed) == {"alert:T0001:b1"} | {f"health:T0001:r{n}" for n in range(5)}
