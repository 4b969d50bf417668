"""Run a real Gateway in-process for the length of a test."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress

from gateway.app import Gateway
from gateway.config import GatewayConfig
from gateway.registry import load_registry

ADMIN_PASSWORD = "admin-password-for-tests"


@asynccontextmanager
async def running_gateway(
    cfg: GatewayConfig, environ: Mapping[str, str] | None = None, wait_ready: bool = True
) -> AsyncIterator[Gateway]:
    """The gateway, running; by default once it is ready (every broker session up)."""
    env = {"GATEWAY_CONSOLE_ADMIN_PASSWORD": ADMIN_PASSWORD, **(environ or {})}
    gateway = Gateway(cfg, load_registry(cfg.registry.path, cfg.site.district), env)
    async with asyncio.TaskGroup() as tg:
        task = tg.create_task(gateway.run(), name="gateway")
        ready = tg.create_task(gateway.ready.wait(), name="gateway-ready")
        try:
            if wait_ready:
                async with asyncio.timeout(15):
                    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
            else:
                await asyncio.sleep(0.5)  # time to start, or to fail
            if task.done():
                task.result()  # surfaces the error that stopped it
            yield gateway
        finally:
            ready.cancel()
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
