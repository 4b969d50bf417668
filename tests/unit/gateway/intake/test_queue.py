"""IntakeQueue: alerts leave first; a full lane sheds its oldest and counts it."""

from __future__ import annotations

from gateway.intake.queue import PER_SENDER_ALERTS, IntakeQueue, bounded_queue
from gateway.intake.router import Raw
from tests.unit.gateway.helpers import sample

SHED = "gateway_shed_messages_total"


def message(channel: str, n: int, terminal_id: str = "T0001") -> Raw:
    return Raw(f"ec/v1/t/{terminal_id}/{channel}", f"{channel}-{n}".encode())


def payloads(messages: list[Raw]) -> list[str]:
    return [m.payload.decode() for m in messages]


def make(alert_max: int = 100, telemetry_max: int = 100) -> IntakeQueue:
    return bounded_queue(alert_max, telemetry_max)


async def test_alerts_come_out_before_earlier_telemetry() -> None:
    queue = make()
    for n in range(3):
        queue.put_nowait(message("health", n))
    queue.put_nowait(message("alert", 0))
    queue.put_nowait(message("status", 3))
    queue.put_nowait(message("alert", 1))

    out = [await queue.get() for _ in range(queue.qsize())]

    assert payloads(out) == ["alert-0", "alert-1", "health-0", "health-1", "health-2", "status-3"]


async def test_get_waits_for_the_first_message() -> None:
    queue = make()
    queue.put_nowait(message("status", 1))

    assert payloads([await queue.get()]) == ["status-1"]
    assert queue.empty()


async def test_full_telemetry_lane_sheds_oldest_first_and_counts() -> None:
    queue = make(alert_max=100, telemetry_max=10)
    before = sample(SHED, queue="telemetry")

    for n in range(15):
        queue.put_nowait(message("health", n))

    assert queue.qsize() == 10
    assert payloads(queue.get_batch(100)) == [f"health-{n}" for n in range(5, 15)]
    assert sample(SHED, queue="telemetry") - before == 5


async def test_telemetry_flood_never_sheds_an_alert() -> None:
    queue = make(alert_max=100, telemetry_max=10)
    alert_before = sample(SHED, queue="alert")
    queue.put_nowait(message("alert", 0))

    for n in range(1, 1000):
        queue.put_nowait(message("status", n))

    batch = queue.get_batch(1000)
    assert payloads(batch)[0] == "alert-0"
    assert len(batch) == 11
    assert sample(SHED, queue="alert") == alert_before


async def test_full_alert_lane_sheds_its_oldest_alert_and_counts() -> None:
    queue = make(alert_max=3, telemetry_max=10)
    before = sample(SHED, queue="alert")

    for n in range(5):
        queue.put_nowait(message("alert", n))

    assert payloads(queue.get_batch(10)) == ["alert-2", "alert-3", "alert-4"]
    assert sample(SHED, queue="alert") - before == 2


async def test_get_batch_takes_at_most_limit_alerts_first() -> None:
    queue = make()
    queue.put_nowait(message("health", 0))
    queue.put_nowait(message("alert", 1))
    queue.put_nowait(message("health", 2))

    first = queue.get_batch(2)
    rest = queue.get_batch(2)

    assert payloads(first) == ["alert-1", "health-0"]
    assert payloads(rest) == ["health-2"]
    assert queue.get_batch(5) == []


async def test_a_batch_that_begins_with_an_alert_carries_alerts_only() -> None:
    """The intake consumer's batches: an alarm's transaction is not also hundreds of
    health and status rows."""
    queue = make()
    for n in range(100):
        queue.put_nowait(message("health", n))
    queue.put_nowait(message("alert", 100))
    queue.put_nowait(message("alert", 101, terminal_id="T0002"))

    first = queue.get_nowait()
    batch = [first, *queue.get_batch(511, alerts_only=queue.is_alert(first))]

    assert payloads(batch) == ["alert-100", "alert-101"]
    assert len(queue.get_batch(511)) == 100


async def test_topic_merely_containing_alert_is_telemetry() -> None:
    queue = make()
    queue.put_nowait(message("health", 0, terminal_id="alert"))
    queue.put_nowait(message("alert", 1))

    assert payloads(queue.get_batch(2)) == ["alert-1", "health-0"]


async def test_a_terminal_flooding_its_alert_topic_delays_no_other_alarm() -> None:
    queue = make(alert_max=100_000)
    before = sample(SHED, queue="alert")
    for n in range(1000):
        queue.put_nowait(message("alert", n, terminal_id="T-flood"))
    queue.put_nowait(message("alert", 5000, terminal_id="T-elder"))

    first = queue.get_batch(2)

    assert "alert-5000" in payloads(first)
    # The flooder keeps only its newest alerts; it shed its own, nobody else's.
    rest = payloads(queue.get_batch(10_000))
    assert len(rest) == PER_SENDER_ALERTS - 1
    assert rest[-1] == "alert-999"
    assert sample(SHED, queue="alert") - before == 1000 - PER_SENDER_ALERTS


async def test_alerts_of_several_terminals_take_turns() -> None:
    queue = make()
    for n in range(3):
        queue.put_nowait(message("alert", n, terminal_id="T1"))
    queue.put_nowait(message("alert", 9, terminal_id="T2"))

    assert payloads(queue.get_batch(4)) == ["alert-0", "alert-9", "alert-1", "alert-2"]


async def test_an_alerts_time_in_the_queue_is_observed_as_it_leaves() -> None:
    queue = make()
    count = "gateway_alert_wait_seconds_count"
    before = sample(count)
    queue.put_nowait(message("alert", 0))
    queue.put_nowait(message("health", 1))
    queue.put_nowait(message("alert", 2))

    await queue.get()
    assert sample(count) - before == 1
    queue.get_batch(10)
    assert sample(count) - before == 2  # telemetry is not observed
