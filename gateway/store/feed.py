"""The health feed: a sink's health events, read from ``health`` in id order.

Health reports are most of what a district forwards (~570 a second). An outbox row per
report and sink, inserted, leased and deleted again, cost the store more than keeping
the report did. So each sink has one cursor instead (``feed.after``): every report with
a larger id is owed to it. The ids follow commit order (one writer; retention never
drops the newest report), so a report committed later always lies past the cursor.

The forwarder takes reports past the last one it handed out, in batches. A batch is
*settled* when each of its reports was either confirmed by the sink or, when its
delivery failed, became an ordinary outbox row (retried and dead-lettered like any
other, :meth:`~gateway.store.outbox.Outbox.settle_failures`). The cursor moves to the
end of the longest run of settled batches from its start, in the transaction that
settles the last of them. After a crash the cursor is where the last commit left it:
reports past it that were delivered already go again (at least once; the command
center deduplicates on the event id).

Several gateway processes may share one file. A sink's feed is then forwarded by one of
them at a time: the one that holds its lease (``owner``, ``lease_until``, renewed while
it forwards, like an outbox row's), so a report is not sent once per process. A process
that takes the lease over starts from the stored cursor.

:class:`Cursor` is that bookkeeping, without I/O; the rest are the statements.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.store.direct import Conn
from gateway.store.health import COLUMNS


@dataclass(slots=True)
class _Batch:
    last: int  # the highest report id in it
    owed: int  # its reports not settled yet


@dataclass(frozen=True, slots=True)
class Settling:
    """What settling some reports would do: ``after`` is the cursor to store with it
    (None: it does not move)."""

    after: int | None
    counts: Counter[int]  # reports settled per batch (by its last id)


class Cursor:
    """One sink's place in the feed: ``after`` the end of the settled run (``stored``:
    as far as a commit wrote it), ``handed`` the last report handed out, and the batches
    in between."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.stored = after
        self.handed = after
        self._batches: list[_Batch] = []

    @property
    def open_batches(self) -> int:
        return len(self._batches)

    @property
    def unsaved(self) -> bool:
        """Settled further than stored (two settlements crossed): store ``after``."""
        return self.after > self.stored

    def hand_out(self, ids: Sequence[int]) -> None:
        """``ids`` (ascending, all past ``handed``) went out as one batch."""
        if not ids:
            return
        if ids[0] <= self.handed:
            raise ValueError(f"report {ids[0]} handed out twice (after {self.handed})")
        self._batches.append(_Batch(ids[-1], len(ids)))
        self.handed = ids[-1]

    def _find(self, report: int) -> _Batch:
        index = bisect_left(self._batches, report, key=lambda b: b.last)
        if index == len(self._batches):
            raise ValueError(f"report {report} was not handed out")
        return self._batches[index]

    def settling(self, ids: Iterable[int]) -> Settling:
        """What settling ``ids`` (handed out, not settled yet) does; nothing changes
        until :meth:`settled`, after the commit."""
        # A report at or before ``after`` was settled already (a batch settled again
        # after an internal error): it changes nothing.
        counts: Counter[int] = Counter(
            self._find(report).last for report in ids if report > self.after
        )
        after = None
        for batch in self._batches:
            if batch.owed - counts[batch.last] > 0:
                break
            after = batch.last
        return Settling(after, counts)

    def settled(self, settling: Settling) -> None:
        """The transaction that stored ``settling`` committed."""
        for last, count in settling.counts.items():
            if last > self.after:
                self._find(last).owed -= count
        done = 0
        while done < len(self._batches) and self._batches[done].owed <= 0:
            self.after = max(self.after, self._batches[done].last)
            done += 1
        del self._batches[:done]
        if settling.after is not None:
            self.stored = max(self.stored, settling.after)


async def ensure(conn: Conn, sinks: Sequence[str]) -> None:
    """Give each sink new to this file its cursor, at the newest report (the reports
    before it were never owed to it). Intake does this before it stores reports."""
    await conn.executemany(
        "INSERT OR IGNORE INTO feed (sink, after) SELECT ?, coalesce(max(id), 0) FROM health",
        [(sink,) for sink in sinks],
    )


async def stored_cursor(conn: Any, sink: str) -> int | None:
    """``sink``'s stored cursor, if it has one."""
    async with conn.execute("SELECT after FROM feed WHERE sink = ?", (sink,)) as cursor:
        row = await cursor.fetchone()
    return None if row is None else int(row[0])


async def take(conn: Conn, sink: str, owner: str, now: float, until: float) -> int | None:
    """Lease ``sink``'s feed to ``owner`` until ``until`` if it is free, lapsed or
    ``owner``'s already; the stored cursor if so, None if another process holds it."""
    rows = list(
        await conn.execute_fetchall(
            "UPDATE feed SET owner = ?, lease_until = ? WHERE sink = ?"
            " AND (owner IS NULL OR owner = ? OR lease_until <= ?) RETURNING after",
            (owner, until, sink, owner, now),
        )
    )
    return None if not rows else int(rows[0][0])


async def release(conn: Conn, owners: Sequence[str]) -> None:
    """The leases of ``owners`` (dead processes) are void at once."""
    await conn.executemany(
        "UPDATE feed SET owner = NULL, lease_until = 0 WHERE owner = ?", [(o,) for o in owners]
    )


async def store_cursor(conn: Conn, sink: str, after: int) -> None:
    await conn.execute("UPDATE feed SET after = max(after, ?) WHERE sink = ?", (after, sink))


#: The columns a forwarded report is built from, in this order.
READ = f"id, terminal_id, report_id, ts, received_at, {', '.join(COLUMNS)}"


async def read_after(conn: Any, after: int, limit: int) -> list[Any]:
    """Up to ``limit`` reports past ``after``, in id order (``READ``'s columns)."""
    async with conn.execute(
        f"SELECT {READ} FROM health WHERE id > ? ORDER BY id LIMIT ?", (after, limit)
    ) as cursor:
        return list(await cursor.fetchall())


def owed(rows: Sequence[Any]) -> dict[str, tuple[int, float | None]]:
    """Per sink, from rows of :data:`PENDING`: reports owed and when the oldest arrived."""
    return {row[0]: (max(0, row[1] or 0), row[2]) for row in rows}


#: Each sink's reports past its cursor: (sink, count, oldest received_at). The ids past
#: the cursor have no holes (retention keeps them), so the count is a subtraction.
PENDING = (
    "SELECT sink, (SELECT max(id) FROM health) - after,"
    " (SELECT received_at FROM health WHERE id > after ORDER BY id LIMIT 1) FROM feed"
)
