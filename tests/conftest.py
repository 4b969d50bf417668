"""Fixtures shared by the integration and end-to-end tests: a site and its real broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from device_sim.procs import ManagedProcess, mosquitto
from tests.support.site import Site, make_site


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path)


@pytest.fixture
def broker(site: Site) -> Iterator[ManagedProcess]:
    """A real Mosquitto on a free loopback port with the site's accounts and ACL."""
    with mosquitto(site.broker_conf, site.root / "mosquitto.log") as proc:
        proc.wait_port("127.0.0.1", site.broker_port)
        yield proc
