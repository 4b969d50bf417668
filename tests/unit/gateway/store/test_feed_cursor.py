"""The health feed's cursor: where a sink's settled run ends, without I/O."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.store.feed import Cursor, Settling


def settle(cursor: Cursor, ids: list[int]) -> Settling:
    settling = cursor.settling(ids)
    cursor.settled(settling)
    return settling


def test_a_settled_batch_moves_the_cursor_to_its_end() -> None:
    cursor = Cursor(10)
    cursor.hand_out([11, 12, 14])

    settling = settle(cursor, [11, 12, 14])

    assert settling.after == 14
    assert (cursor.after, cursor.stored, cursor.handed, cursor.open_batches) == (14, 14, 14, 0)


def test_a_later_batch_settled_first_waits_for_the_earlier_one() -> None:
    cursor = Cursor(0)
    cursor.hand_out([1, 2])
    cursor.hand_out([3, 4])

    assert settle(cursor, [3, 4]).after is None  # 1 and 2 are still out
    assert cursor.after == 0
    assert settle(cursor, [1, 2]).after == 4  # both runs end at once
    assert (cursor.after, cursor.open_batches) == (4, 0)


def test_a_batch_settled_in_parts_moves_only_when_whole() -> None:
    cursor = Cursor(0)
    cursor.hand_out([1, 2, 3])

    assert settle(cursor, [2]).after is None  # one failed and became an outbox row
    assert settle(cursor, [1, 3]).after == 3


def test_crossed_settlements_leave_the_cursor_unsaved_until_stored() -> None:
    """Two settlements computed before either committed: neither knew the other would
    finish the run, so the second commit stored no cursor."""
    cursor = Cursor(0)
    cursor.hand_out([1])
    cursor.hand_out([2])
    first, second = cursor.settling([1]), cursor.settling([2])
    assert (first.after, second.after) == (1, None)

    cursor.settled(first)
    cursor.settled(second)

    assert (cursor.after, cursor.stored, cursor.unsaved) == (2, 1, True)
    cursor.settled(Settling(2, Counter()))  # what storing it does
    assert cursor.unsaved is False


def test_a_report_settled_again_changes_nothing() -> None:
    cursor = Cursor(0)
    cursor.hand_out([1, 2])
    settle(cursor, [1, 2])

    assert settle(cursor, [1, 2]) == Settling(None, Counter())
    assert cursor.after == 2


def test_handing_out_a_report_twice_is_refused() -> None:
    cursor = Cursor(5)
    with pytest.raises(ValueError, match="handed out twice"):
        cursor.hand_out([5])
    cursor.hand_out([6])
    with pytest.raises(ValueError, match="handed out twice"):
        cursor.hand_out([6, 7])


def test_settling_a_report_never_handed_out_is_refused() -> None:
    cursor = Cursor(0)
    cursor.hand_out([1])
    with pytest.raises(ValueError, match="not handed out"):
        cursor.settling([2])


@given(st.lists(st.integers(1, 4), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_the_cursor_ends_at_the_last_report_once_all_are_settled_in_any_order(
    sizes: list[int], rng: random.Random
) -> None:
    """However batches are cut and in whatever order their parts settle, the cursor never
    passes an unsettled report and ends at the last one."""
    cursor, next_id, parts = Cursor(0), 1, []
    for size in sizes:
        ids = list(range(next_id, next_id + size))
        next_id += size
        cursor.hand_out(ids)
        cut = rng.randint(0, size)
        parts += [part for part in (ids[:cut], ids[cut:]) if part]
    rng.shuffle(parts)
    settled: set[int] = set()
    for part in parts:
        settling = settle(cursor, part)
        settled.update(part)
        assert all(report in settled for report in range(1, cursor.after + 1))
        if settling.after is not None:
            assert settling.after == cursor.after
        if cursor.unsaved:
            cursor.settled(Settling(cursor.after, Counter()))
    assert (cursor.after, cursor.stored, cursor.open_batches) == (next_id - 1, next_id - 1, 0)
