"""Fixtures shared by the integration and end-to-end tests: a site and its real broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from device_sim.brokers import SiteBrokers
from device_sim.procs import ManagedProcess
from tests.support.site import Site, make_site


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return make_site(tmp_path)


@pytest.fixture
def broker(site: Site) -> Iterator[ManagedProcess]:
    """A real Mosquitto on free loopback ports with the site's accounts, ACLs and TLS."""
    with SiteBrokers(site.root) as brokers:
        yield brokers.process("site")
