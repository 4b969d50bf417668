"""Supervisor.sweep on real terminal_state rows, driven by a fake clock."""

from __future__ import annotations

import json

import pytest

from firmware_protocol.messages import AlertKind, Status, TerminalState
from gateway.config import SupervisionConfig
from gateway.store.db import Database
from gateway.supervisor import CANDIDATES, Supervisor
from tests.integration.store.helpers import (
    REGISTRY,
    T0,
    FakeClock,
    alert,
    query_plan,
    registry,
    rows,
    sample,
    store,
)

pytestmark = pytest.mark.integration

CFG = SupervisionConfig()  # reporting 180 s, will grace 30 s, flap 1/3/1 over 900 s
ONLINE = Status("T0001", TerminalState.ONLINE)
WILL = Status("T0001", TerminalState.OFFLINE)


class Wakes:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def supervisor(db: Database, clock: FakeClock, wakes: Wakes | None = None) -> Supervisor:
    return Supervisor(db, REGISTRY, CFG, ["webhook"], wakes or Wakes(), clock)


async def events(db: Database) -> list[tuple[str, str]]:
    found = await rows(db, "SELECT event_id, type FROM events WHERE type LIKE 'terminal.%'"
                           " ORDER BY created_at, event_id")  # fmt: skip
    return [(r["event_id"], r["type"]) for r in found]


async def state(db: Database, terminal_id: str = "T0001") -> dict[str, object]:
    [row] = await rows(db, "SELECT * FROM terminal_state WHERE terminal_id = ?", terminal_id)
    return row


async def test_silent_terminal_goes_offline_once(db: Database, clock: FakeClock) -> None:
    await store(db, ONLINE, now=T0)
    await store(db, Status("T0002", TerminalState.ONLINE), now=T0 + 170)
    wakes = Wakes()
    sweeper = supervisor(db, clock, wakes)

    clock.now = T0 + CFG.reporting_time_s
    assert await sweeper.sweep() == 0
    clock.now = T0 + CFG.reporting_time_s + 1
    raised = await sweeper.sweep()
    clock.advance(5)
    again = await sweeper.sweep()

    assert (raised, again) == (1, 0)
    offline_id = f"terminal.offline:T0001:{int(T0 + CFG.reporting_time_s + 1)}"
    assert await events(db) == [(offline_id, "terminal.offline")]
    assert [r["event_id"] for r in await rows(db, "SELECT event_id FROM outbox")] == [offline_id]
    assert wakes.count == 1
    row = await state(db)
    assert (row["online"], row["reported_offline"]) == (0, 1)
    assert (await state(db, "T0002"))["online"] == 1
    assert sample("gateway_terminals_offline") == 1


async def test_offline_event_names_the_elder_and_region(db: Database, clock: FakeClock) -> None:
    await store(db, ONLINE, now=T0)
    clock.now = T0 + 500

    await supervisor(db, clock).sweep()

    [row] = await rows(db, "SELECT body FROM events")
    body = json.loads(row["body"])
    assert body["type"] == "terminal.offline"
    assert body["region"] == ["District", "TownA", "V1"]
    assert body["data"]["elder"] == {"name": "Elder T0001"}
    assert body["data"]["last_seen"] == T0


async def test_next_message_restores_the_terminal(db: Database, clock: FakeClock) -> None:
    await store(db, ONLINE, now=T0)
    sweeper = supervisor(db, clock)
    clock.now = T0 + 200
    await sweeper.sweep()

    await store(db, alert("b1"), now=T0 + 250)
    clock.now = T0 + 255
    raised = await sweeper.sweep()

    assert raised == 1
    assert (await events(db))[-1] == (f"terminal.restored:T0001:{int(T0 + 255)}",
                                      "terminal.restored")  # fmt: skip
    assert (await state(db))["online"] == 1
    assert sample("gateway_terminals_offline") == 0


async def test_last_will_is_offline_after_the_grace(db: Database, clock: FakeClock) -> None:
    await store(db, ONLINE, now=T0)
    await store(db, WILL, now=T0 + 10)
    sweeper = supervisor(db, clock)

    clock.now = T0 + 10 + CFG.will_grace_s - 1
    early = await sweeper.sweep()
    clock.now = T0 + 10 + CFG.will_grace_s
    due = await sweeper.sweep()

    assert (early, due) == (0, 1)
    assert [t for _, t in await events(db)] == ["terminal.offline"]


async def test_reconnect_within_the_grace_raises_nothing(db: Database, clock: FakeClock) -> None:
    await store(db, WILL, now=T0)
    await store(db, ONLINE, now=T0 + 5)
    clock.now = T0 + 60

    assert await supervisor(db, clock).sweep() == 0


async def test_flapping_terminal_raises_one_flapping_event(db: Database, clock: FakeClock) -> None:
    sweeper = supervisor(db, clock)
    for cycle in range(12):
        start = T0 + cycle * 120
        await store(db, WILL, now=start)
        clock.now = start + CFG.will_grace_s
        await sweeper.sweep()
        await store(db, ONLINE, now=start + 60)
        clock.now = start + 61
        await sweeper.sweep()

    kinds = [t for _, t in await events(db)]
    assert kinds == ["terminal.offline", "terminal.restored"] * 3 + ["terminal.flapping"]
    assert (await state(db))["muted"] == 1

    # Stable for a few half-lives: unmuted, silently, since it is online.
    await store(db, ONLINE, now=clock.now + 3 * 3600)
    clock.advance(3 * 3600 + 1)
    await sweeper.sweep()
    assert (await state(db))["muted"] == 0
    assert len(await events(db)) == len(kinds)


async def test_missed_self_test_is_reported_once(db: Database, clock: FakeClock) -> None:
    await store(db, alert("st1", kind=AlertKind.TEST), now=T0)
    due = CFG.selftest_interval_s + CFG.selftest_grace_s
    sweeper = supervisor(db, clock)

    for offset in (due, due + 1, due + 60, due + 3600):
        await store(db, ONLINE, now=T0 + offset - 1)  # alive, just no self-test
        clock.now = T0 + offset
        await sweeper.sweep()

    assert await events(db) == [
        (f"terminal.selftest_missed:T0001:{int(T0)}", "terminal.selftest_missed")
    ]


async def test_two_gateways_sweeping_together_raise_each_event_once(
    db: Database, clock: FakeClock
) -> None:
    await store(db, ONLINE, now=T0)
    clock.now = T0 + 300
    first, second = supervisor(db, clock), supervisor(db, clock)

    raised = [await first.sweep(), await second.sweep()]

    assert raised == [1, 0]
    assert len(await events(db)) == 1


async def test_a_sweep_reads_only_terminals_that_may_change_never_the_whole_fleet(
    db: Database,
) -> None:
    plan = await query_plan(db, CANDIDATES, T0, T0)

    # Every branch of the union reads one index that holds just its candidates: a range
    # of (online, last_seen) or of last_selftest_at, or a partial index of the others.
    reads = [step for step in plan if "terminal_state" in step]
    assert reads == [
        "SEARCH terminal_state USING INDEX terminal_state_by_seen (online=? AND last_seen<?)",
        "SEARCH terminal_state USING INDEX terminal_state_will (will_at>?)",
        "SCAN terminal_state USING INDEX terminal_state_back",
        "SCAN terminal_state USING INDEX terminal_state_muted",
        "SEARCH terminal_state USING INDEX terminal_state_selftest (last_selftest_at<?)",
    ]


async def test_a_quiet_fleet_gives_a_sweep_nothing_to_read(db: Database) -> None:
    fleet = [f"T{n:05d}" for n in range(2000)]
    await store(db, *(Status(t, TerminalState.ONLINE) for t in fleet),
                terminals=registry(*fleet))  # fmt: skip

    async with db.reader.execute(CANDIDATES, (T0 - 180, T0 - 90_000)) as cursor:
        assert [row async for row in cursor] == []
