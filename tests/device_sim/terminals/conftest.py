"""A real Mosquitto per test (see :mod:`tests.device_sim.terminals.broker`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.device_sim.terminals.broker import MosquittoBroker, start_mosquitto, stop_mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """Mosquitto on a free port with terminals ``t-01`` … ``t-08``; stopped at teardown."""
    if shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto is not installed")
    process, broker = start_mosquitto(tmp_path)
    try:
        yield broker
    finally:
        stop_mosquitto(process)
