"""LogOnce: one line per key and window; bounded memory."""

from __future__ import annotations

import logging

import pytest

from gateway.logonce import LogOnce

LOGGER = "tests.logonce"


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


@pytest.fixture
def once(caplog: pytest.LogCaptureFixture) -> LogOnce:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    return LogOnce(logging.getLogger(LOGGER), window_s=60.0, size=3)


def test_first_occurrence_is_logged_with_its_arguments(
    once: LogOnce, caplog: pytest.LogCaptureFixture
) -> None:
    assert once.warning("k", 0.0, "problem %s on %d", "x", 7) is True

    assert lines(caplog) == ["problem x on 7"]


def test_repeats_within_the_window_are_muted(
    once: LogOnce, caplog: pytest.LogCaptureFixture
) -> None:
    results = [once.warning("k", t, "m") for t in (0.0, 1.0, 59.9)]

    assert results == [True, False, False]
    assert len(lines(caplog)) == 1


def test_the_window_counts_from_the_last_logged_line(
    once: LogOnce, caplog: pytest.LogCaptureFixture
) -> None:
    logged = [once.warning("k", t, "m") for t in (0.0, 30.0, 60.0, 100.0, 120.0)]

    assert logged == [True, False, True, False, True]


def test_different_keys_are_independent(once: LogOnce, caplog: pytest.LogCaptureFixture) -> None:
    assert once.warning(("T1", "not_json"), 0.0, "a")
    assert once.warning(("T2", "not_json"), 0.0, "b")
    assert once.warning(("T1", "bad_type"), 0.0, "c")

    assert lines(caplog) == ["a", "b", "c"]


def test_memory_is_bounded_and_forgets_the_least_recent_key(
    once: LogOnce, caplog: pytest.LogCaptureFixture
) -> None:
    for key in ("a", "b", "c", "d"):  # size=3: "a" is forgotten
        once.warning(key, 0.0, key)

    assert once.warning("a", 1.0, "a again") is True
    assert once.warning("c", 1.0, "c again") is False
