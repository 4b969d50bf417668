"""WriteLock: one holder; urgent waiters are handed the lock first, each kind in order."""

from __future__ import annotations

import asyncio

import pytest

from gateway.store.writelock import WriteLock


async def _take(lock: WriteLock, name: str, urgent: bool, order: list[str]) -> None:
    async with lock.hold(urgent):
        order.append(name)
        await asyncio.sleep(0)


async def test_urgent_waiters_go_before_earlier_normal_ones_each_in_order() -> None:
    lock, order = WriteLock(), list[str]()
    await lock.acquire()
    tasks = [
        asyncio.create_task(_take(lock, name, urgent, order))
        for name, urgent in [("n1", False), ("n2", False), ("u1", True), ("u2", True)]
    ]
    await asyncio.sleep(0)
    assert lock.waiting == 4
    lock.release()
    await asyncio.gather(*tasks)
    assert order == ["u1", "u2", "n1", "n2"]
    assert not lock.locked


async def test_a_free_lock_is_taken_at_once() -> None:
    lock = WriteLock()
    async with lock.hold():
        assert lock.locked
    assert not lock.locked


async def test_a_waiter_cancelled_while_waiting_leaves_the_queue() -> None:
    lock, order = WriteLock(), list[str]()
    await lock.acquire()
    gone = asyncio.create_task(_take(lock, "gone", True, order))
    stays = asyncio.create_task(_take(lock, "stays", False, order))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    assert lock.waiting == 1
    lock.release()
    await stays
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert order == ["stays"]
    assert not lock.locked


async def test_a_waiter_cancelled_just_after_being_handed_the_lock_passes_it_on() -> None:
    lock, order = WriteLock(), list[str]()
    await lock.acquire()
    first = asyncio.create_task(_take(lock, "first", False, order))
    second = asyncio.create_task(_take(lock, "second", False, order))
    await asyncio.sleep(0)
    lock.release()  # handed to `first`, which has not run yet …
    first.cancel()  # … and is cancelled before it does
    await second
    with pytest.raises(asyncio.CancelledError):
        await first
    assert order == ["second"]
    assert not lock.locked


async def test_release_of_a_free_lock_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="not held"):
        WriteLock().release()
