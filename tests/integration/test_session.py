"""The gateway's MQTT session (lean client) against the site's real Mosquitto: QoS 1
publications return with their PUBACK, a dropped link fails what is in flight instead of
hanging it, and an MQTT 5 session outlives a restart of the gateway for its expiry."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import pytest

from device_sim.procs import ManagedProcess, free_port
from firmware_protocol.mqtt import ConnectionLost, ConnectRefused
from gateway.intake.session import Session
from gateway.linkstate import reason_of
from tests.support.proxy import TcpRelay
from tests.support.site import GATEWAY_USER, Site

pytestmark = pytest.mark.integration

ACK = "ec/v1/t/{}/ack"


class Inbox:
    """What a session received, as it arrives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._changed = asyncio.Event()

    def __call__(self, topic: str, payload: bytes) -> None:
        self.messages.append((topic, payload))
        self._changed.set()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(10):
            while len(self.messages) < count:
                self._changed.clear()
                await self._changed.wait()


@asynccontextmanager
async def session(
    site: Site, client_id: str, *, inbox: Inbox | None = None, **options: object
) -> AsyncIterator[Session]:
    """A gateway session, or with ``terminal=`` id a terminal's own on its listener."""
    terminal = options.pop("terminal", None)
    if terminal is None:
        port, user, password = site.gateway_port, GATEWAY_USER, site.gateway_password
    else:
        port, user, password = site.broker_port, str(terminal), site.passwords[str(terminal)]
    opened = await Session.open(
        "127.0.0.1", port, client_id=client_id, username=user, password=password,
        keepalive_s=30, on_message=inbox or Inbox(),
        **{"max_inflight": 100, **options},  # type: ignore[arg-type]
    )  # fmt: skip
    serving = asyncio.create_task(opened.serve())
    try:
        yield opened
    finally:
        opened.close()
        await serving  # a clean close ends it without an error


async def test_every_publication_returns_with_its_puback_and_reaches_the_subscriber(
    site: Site, broker: ManagedProcess
) -> None:
    terminal = site.terminals[0].terminal_id
    inbox = Inbox()
    async with session(site, terminal, inbox=inbox, terminal=terminal) as elder:
        await elder.subscribe([(ACK.format(terminal), 1)])
        async with session(site, "gw-test.pub", max_inflight=4) as gateway:
            await asyncio.gather(
                *(gateway.publish(ACK.format(terminal), f"ack-{n}".encode()) for n in range(300))
            )
        await inbox.wait_for(300)

    assert sorted(p.decode() for _, p in inbox.messages) == sorted(f"ack-{n}" for n in range(300))


async def test_a_dropped_link_fails_the_publications_in_flight_and_ends_serve(
    site: Site, broker: ManagedProcess
) -> None:
    relay_port = free_port()
    async with TcpRelay(relay_port, site.gateway_port) as relay:
        pub = await Session.open(
            "127.0.0.1", relay_port, client_id="gw-test.cut", username=GATEWAY_USER,
            password=site.gateway_password, keepalive_s=30, on_message=Inbox(),
            max_inflight=100,
        )  # fmt: skip
        serving = asyncio.create_task(pub.serve())
        assert broker.proc is not None
        os.kill(broker.proc.pid, signal.SIGSTOP)  # no PUBACK comes back
        try:
            waiting = [
                asyncio.create_task(pub.publish(ACK.format("T0001"), b"x")) for _ in range(10)
            ]
            await asyncio.sleep(0.3)
            assert not any(task.done() for task in waiting)
            relay.cut()
            async with asyncio.timeout(5):
                results = await asyncio.gather(*waiting, return_exceptions=True)
                with pytest.raises(ConnectionLost):
                    await serving
        finally:
            os.kill(broker.proc.pid, signal.SIGCONT)

    assert all(isinstance(r, ConnectionLost) for r in results), results
    with pytest.raises(ConnectionLost):
        await pub.publish(ACK.format("T0001"), b"after")


@pytest.mark.parametrize(("expiry_s", "kept"), [(60, True), (0, False)])
async def test_an_mqtt5_session_is_kept_across_a_reconnect_for_its_expiry(
    site: Site, broker: ManagedProcess, expiry_s: int, kept: bool
) -> None:
    terminal = site.terminals[1].terminal_id
    topic = f"ec/v1/t/{terminal}/alert"
    v5 = partial(session, site, "gw-test.v5", v5=True, clean=False, session_expiry_s=expiry_s)
    async with v5() as first:
        await first.subscribe([(topic, 1)])
    # The gateway is away: the broker queues for a kept session only.
    async with session(site, terminal, terminal=terminal) as elder:
        await elder.publish(topic, b"while-away")

    inbox = Inbox()
    async with v5(inbox=inbox):
        if kept:
            await inbox.wait_for(1)
        else:
            await asyncio.sleep(1.0)

    assert inbox.messages == ([(topic, b"while-away")] if kept else [])


async def test_a_wrong_password_is_refused_and_named_so(site: Site, broker: ManagedProcess) -> None:
    with pytest.raises(ConnectRefused) as refused:
        await Session.open(
            "127.0.0.1", site.gateway_port, client_id="gw-test.bad", username=GATEWAY_USER,
            password="wrong", keepalive_s=30, on_message=Inbox(), max_inflight=1,
        )  # fmt: skip

    assert reason_of(refused.value) == "not_authorized"
