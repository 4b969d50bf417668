"""The command center on a real loopback socket, with a tiny gateway API of its own."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from device_sim.command_center import (
    CommandCenter,
    CommandCenterOptions,
    Mode,
    ResponderOptions,
)
from device_sim.terminals.backoff import FixedDelays
from tests.device_sim.command_center.helpers import (
    SECRET,
    TOKEN,
    FakeGatewayApi,
    event,
    serving,
    signed,
)


@contextlib.asynccontextmanager
async def running(center: CommandCenter) -> AsyncIterator[CommandCenter]:
    async with asyncio.TaskGroup() as tg:
        tg.create_task(center.run(), name="command-center")
        try:
            async with asyncio.timeout(10):
                await center.wait_ready()
            yield center
        finally:
            center.stop()


async def post_event(url: str, webhook_id: str, **kwargs: object) -> httpx.Response:
    """One event per request, its ``event_id`` the ``webhook_id`` unless given."""
    kwargs.setdefault("event_id", webhook_id)
    body, headers = signed(event(**kwargs), webhook_id)  # type: ignore[arg-type]
    async with httpx.AsyncClient() as http:
        return await http.post(f"{url}/webhook", content=body, headers=headers)


async def refused(url: str) -> None:
    """Return once connections to ``url`` are refused (the listener closes within a tick).
    A request the closing listener had already accepted ends unanswered (a read error):
    that is not yet a refusal, so ask again."""
    async with httpx.AsyncClient() as http:
        while True:
            try:
                await http.get(f"{url}/healthz", headers={"connection": "close"})
            except httpx.ConnectError:
                return
            except (httpx.ReadError, httpx.RemoteProtocolError):
                pass
            await asyncio.sleep(0.05)


async def test_receives_over_the_socket_and_waits_for_events() -> None:
    async with running(CommandCenter(CommandCenterOptions(secret=SECRET))) as center:
        assert (await post_event(center.url, "w1")).status_code == 200
        async with asyncio.timeout(10):
            await center.wait_for(lambda events: len(events) == 1)
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{center.url}/healthz")).json()["events"] == 1


async def test_down_refuses_connections_then_comes_back_on_the_same_port() -> None:
    async with running(CommandCenter(CommandCenterOptions(secret=SECRET))) as center:
        url = center.url
        async with httpx.AsyncClient() as http:
            control = {"mode": "down", "for_s": 0.5}
            assert (await http.post(f"{url}/control", json=control)).status_code == 200
        async with asyncio.timeout(10):
            await refused(url)
            await center.wait_ready()
        assert center.url == url
        assert (await post_event(url, "w2")).status_code == 200
        assert center.mode.mode is Mode.OK


async def test_down_until_told_otherwise() -> None:
    async with running(CommandCenter(CommandCenterOptions(secret=SECRET))) as center:
        center.set_mode(Mode.DOWN)
        async with asyncio.timeout(10):
            await refused(center.url)
        with pytest.raises(httpx.ConnectError):
            await post_event(center.url, "w1")
        center.set_mode(Mode.OK)
        async with asyncio.timeout(10):
            await center.wait_ready()
        assert (await post_event(center.url, "w1")).status_code == 200


async def test_accepts_then_resolves_through_the_gateway_api() -> None:
    gateway = FakeGatewayApi(fail_first=1)
    async with serving(gateway.app()) as api:
        options = CommandCenterOptions(
            secret=SECRET,
            gateway_api=api,
            gateway_token=TOKEN,
            responder=ResponderOptions(
                "Desk 3", accept_after_s=0.1, resolve_after_s=0.1, eta_s=300
            ),
        )
        center = CommandCenter(options, retry=FixedDelays([0.1]))
        async with running(center):
            await post_event(center.url, "w1")
            test_data = {"terminal_id": "t-02", "alert_id": "b1-0002", "kind": "test"}
            await post_event(center.url, "w2", event_type="alert", data=test_data)
            async with asyncio.timeout(10):
                await gateway.wait_calls(2)
                await center.wait_for(lambda _: center.responder.stats.resolved == 1)
    (t1, a1, accept, body, auth), (_, _, resolve, resolve_body, _) = gateway.calls
    assert (t1, a1, accept, resolve) == ("t-01", "b1-0001", "accept", "resolve")
    assert body == {"by": "Desk 3", "eta_s": 300, "note": "Desk 3: help is on the way"}
    assert resolve_body["by"] == "Desk 3"
    assert auth == f"Bearer {TOKEN}"
    records = center.records()["responder"]
    assert (records["accepted"], records["resolved"], records["retries"]) == (1, 1, 1)
    assert records["skipped"] == 1  # the self-test needs no responder
