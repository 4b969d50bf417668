"""A real Mosquitto per test for the terminal and MQTT client tests (see `terminals/broker.py`)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.device_sim.terminals.broker import MosquittoBroker, start_mosquitto, stop_mosquitto


def _broker(directory: Path, tls: bool) -> Iterator[MosquittoBroker]:
    if shutil.which("mosquitto") is None or shutil.which("mosquitto_passwd") is None:
        pytest.skip("mosquitto is not installed")
    process, broker = start_mosquitto(directory, tls=tls)
    try:
        yield broker
    finally:
        stop_mosquitto(process)


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """Mosquitto on a free port with terminals ``t-01`` … ``t-08``; stopped at teardown."""
    yield from _broker(tmp_path, tls=False)


@pytest.fixture
def mosquitto_tls(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """The same, with a second, TLS listener (``tls_port``, CA in ``tls.ca``)."""
    yield from _broker(tmp_path, tls=True)
