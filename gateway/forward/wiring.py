"""The webhook forwarder, built the same way in the gateway and in its forwarding process."""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable
from contextlib import AsyncExitStack

import httpx

from gateway.config import WebhookConfig
from gateway.core.backoff import Backoff
from gateway.forward.forwarder import Forwarder, Meter, lanes
from gateway.forward.webhook import POOL_SIZE, SpreadClient, WebhookSink
from gateway.intake.pipeline import AckSink
from gateway.store.outbox import Outbox


async def webhook_client(
    wh: WebhookConfig, verify: ssl.SSLContext | bool, stack: AsyncExitStack
) -> SpreadClient:
    """One connection per request in flight, across both lanes, in pools of
    :data:`POOL_SIZE`; closed with ``stack``."""
    pools = max(1, -(-(wh.concurrency + wh.alarm_concurrency) // POOL_SIZE))
    limits = httpx.Limits(max_connections=min(POOL_SIZE, wh.concurrency))
    clients = [
        await stack.enter_async_context(
            httpx.AsyncClient(timeout=wh.timeout_s, limits=limits, verify=verify)
        )
        for _ in range(pools)
    ]
    return SpreadClient(clients)


def webhook_backoff(wh: WebhookConfig) -> Backoff:
    return Backoff(base=wh.backoff_base_s, cap=wh.backoff_cap_s)


def webhook_forwarder(
    wh: WebhookConfig,
    outbox: Outbox,
    acks: AckSink,
    client: SpreadClient,
    clock: Callable[[], float] = time.time,
    meter: Meter | None = None,
) -> Forwarder:
    """The webhook sink's forwarder: its confirmation moves alarms to ``delivered``."""
    batch = wh.format == "batch"
    sink = WebhookSink(wh.url, wh.secret.get_secret_value(), client, batch=batch)
    return Forwarder(
        sink, outbox, acks=acks, confirms_terminals=True, lease_s=wh.timeout_s * 3,
        retry_for_s=wh.retry_for_h * 3600, backoff=webhook_backoff(wh),
        lanes=lanes(wh.concurrency, wh.alarm_concurrency, wh.batch_max if batch else 1,
                    wh.linger_s),
        clock=clock, meter=meter,
    )  # fmt: skip
