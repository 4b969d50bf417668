"""A whole simulated district in one event loop: command center, gateway, terminals."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from device_sim.command_center.center import CommandCenter
from device_sim.command_center.options import CommandCenterOptions
from device_sim.command_center.responder import ResponderOptions
from device_sim.command_center.telephony import TelephonyOptions
from device_sim.procs import free_port
from device_sim.terminals.backoff import FixedDelays
from device_sim.terminals.credentials import Credential
from device_sim.terminals.fleet import Fleet
from device_sim.terminals.options import Broker, FleetOptions
from gateway.app import Gateway
from gateway.config import GatewayConfig
from tests.support.gateway import ADMIN_PASSWORD, running_gateway
from tests.support.site import Site

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = "cc-token-abcdefghijklmnop"
GATEWAY_ENV = {"CC_TOKEN": TOKEN, "GATEWAY_CONSOLE_ADMIN_PASSWORD": ADMIN_PASSWORD}


@dataclass
class District:
    site: Site
    center: CommandCenter
    gateway: Gateway | None
    fleet: Fleet
    gateway_config: GatewayConfig


def gateway_config(
    site: Site, center_port: int, http_port: int, **sections: dict[str, object]
) -> GatewayConfig:
    base: dict[str, dict[str, object]] = {
        "webhook": {"enabled": True, "url": f"http://127.0.0.1:{center_port}/webhook",
                    "secret": SECRET, "backoff_base_s": 0.2, "backoff_cap_s": 1.0,
                    "timeout_s": 2.0},
        "api": {"tokens": [{"name": "command-center", "token_env": "CC_TOKEN"}]},
        "http": {"port": http_port},
    }  # fmt: skip
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return site.config(**base)


def fleet_for(
    site: Site, count: int, zone: str | None = None, options: dict[str, object] | None = None
) -> Fleet:
    """``count`` of the site's terminals (of ``zone``) on their broker's plain listener."""
    creds = [Credential(t.terminal_id, site.passwords[t.terminal_id])
             for t in site.terminals if t.zone == zone][:count]  # fmt: skip
    return Fleet(
        Broker(port=site.terminal_port(zone)),
        creds,
        FleetOptions(**(options or {})),  # type: ignore[arg-type]
        alert_retry=FixedDelays([0.5, 1.0, 2.0]),
        reconnect=FixedDelays([0.2, 0.5, 1.0]),
    )


@asynccontextmanager
async def district(
    site: Site,
    *,
    terminals: int = 10,
    accept_after_s: float = 0.0,
    resolve_after_s: float = 0.0,
    in_process_gateway: bool = True,
    fleet_options: dict[str, object] | None = None,
    telephony: TelephonyOptions | None = None,
    **sections: dict[str, object],
) -> AsyncIterator[District]:
    """Command center first (so deliveries land), then the gateway, then the terminals.

    With ``in_process_gateway=False`` the caller runs the gateway (e.g. as a process it
    kills) from ``District.gateway_config``.
    """
    center_port, http_port = free_port(), free_port()
    cfg = gateway_config(site, center_port, http_port, **sections)
    center = CommandCenter(
        CommandCenterOptions(
            secret=SECRET, port=center_port, gateway_api=f"http://127.0.0.1:{http_port}",
            gateway_token=TOKEN,
            responder=ResponderOptions(name="社区网格员 李娜", accept_after_s=accept_after_s,
                                       resolve_after_s=resolve_after_s),
            telephony=telephony or TelephonyOptions(),
        )
    )  # fmt: skip
    fleet = fleet_for(site, terminals, options=fleet_options)
    async with asyncio.TaskGroup() as tg, AsyncExitStack() as stack:
        center_task = tg.create_task(center.run(), name="command-center")
        await center.wait_ready()
        gateway = None
        if in_process_gateway:
            gateway = await stack.enter_async_context(running_gateway(cfg, GATEWAY_ENV))
        fleet_task = tg.create_task(fleet.run(), name="fleet")
        try:
            async with asyncio.timeout(30):
                await fleet.wait_connected()
            yield District(site, center, gateway, fleet, cfg)
        finally:
            fleet.stop()
            await fleet_task
            center.stop()
            await center_task
