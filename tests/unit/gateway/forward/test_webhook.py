"""WebhookSink: Standard Webhooks signing; the HTTP answer decides retry or give up."""

from __future__ import annotations

import json

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from gateway.errors import DeliveryError, PermanentDeliveryError
from gateway.forward.webhook import SpreadClient, WebhookSink
from gateway.store.outbox import OutboxItem

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
URL = "http://cc.example/webhook"
ITEM = OutboxItem(
    event_id="alert:T0001:b1",
    sink="webhook",
    priority=0,
    attempts=0,
    created_at=1.0,
    body={"event_id": "alert:T0001:b1", "type": "alert", "data": {"note": "请帮我"}},
)


def sink_answering(status: int, seen: list[httpx.Request]) -> WebhookSink:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    return WebhookSink(URL, SECRET, httpx.AsyncClient(transport=httpx.MockTransport(handle)))


async def test_delivery_is_a_signed_post_the_receiver_can_verify() -> None:
    seen: list[httpx.Request] = []

    await sink_answering(204, seen).deliver(ITEM)

    [request] = seen
    assert (request.method, str(request.url)) == ("POST", URL)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == ITEM.event_id
    assert Webhook(SECRET).verify(request.content, dict(request.headers)) == ITEM.body
    assert json.loads(request.content) == ITEM.body


async def test_signature_does_not_verify_with_another_secret() -> None:
    seen: list[httpx.Request] = []
    await sink_answering(200, seen).deliver(ITEM)

    other = Webhook("whsec_" + "A" * 32)
    with pytest.raises(WebhookVerificationError, match="signature"):
        other.verify(seen[0].content, dict(seen[0].headers))


@pytest.mark.parametrize("status", [400, 410, 413, 422])
async def test_refusal_of_the_payload_is_permanent(status: int) -> None:
    with pytest.raises(PermanentDeliveryError, match=f"HTTP {status}"):
        await sink_answering(status, []).deliver(ITEM)


@pytest.mark.parametrize("status", [401, 403, 404, 408, 429, 500, 502, 503])
async def test_other_failures_are_retryable(status: int) -> None:
    with pytest.raises(DeliveryError, match=f"HTTP {status}") as caught:
        await sink_answering(status, []).deliver(ITEM)

    assert not isinstance(caught.value, PermanentDeliveryError)


async def test_connection_failure_is_a_retryable_delivery_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sink = WebhookSink(URL, SECRET, httpx.AsyncClient(transport=httpx.MockTransport(refuse)))

    with pytest.raises(DeliveryError, match="ConnectError") as caught:
        await sink.deliver(ITEM)

    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_spread_client_uses_its_pools_in_turn() -> None:
    seen: list[str] = []

    def handler(name: str) -> httpx.MockTransport:
        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(name)
            return httpx.Response(204)

        return httpx.MockTransport(answer)

    clients = [httpx.AsyncClient(transport=handler(n)) for n in ("a", "b", "c")]
    spread = SpreadClient(clients)
    for _ in range(6):
        reply = await spread.post("http://cc.test/webhook", content=b"{}", headers={})
        assert reply.status_code == 204
    for client in clients:
        await client.aclose()
    assert seen == ["a", "b", "c", "a", "b", "c"]
