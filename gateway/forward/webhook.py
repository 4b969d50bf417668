"""Delivering events as Standard Webhooks (webhook-id / -timestamp / -signature).

Each attempt is signed afresh (receivers reject timestamps older than ~5 minutes, and a
delivery may be retried for days). ``webhook-id`` is the event id: the receiver's
deduplication key across retries and gateway restarts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from gateway.errors import DeliveryError, PermanentDeliveryError
from gateway.store.outbox import OutboxItem

#: Answers that retrying cannot change: the receiver refuses the payload itself.
PERMANENT = frozenset({400, 410, 413, 422})


class WebhookSink:
    """POSTs one event per request; 2xx is the command center's confirmation."""

    name = "webhook"

    def __init__(self, url: str, secret: str, client: httpx.AsyncClient) -> None:
        self._url = url
        self._signer = Webhook(secret)
        self._client = client

    def headers(self, event_id: str, body: str, now: datetime) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "webhook-id": event_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self._signer.sign(event_id, now, body),
        }

    async def deliver(self, item: OutboxItem) -> None:
        body = json.dumps(item.body, ensure_ascii=False, separators=(",", ":"))
        headers = self.headers(item.event_id, body, datetime.now(UTC))
        try:
            response = await self._client.post(self._url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
        if response.is_success:
            return
        detail = f"HTTP {response.status_code}"
        if response.status_code in PERMANENT:
            raise PermanentDeliveryError(detail)
        raise DeliveryError(detail)
