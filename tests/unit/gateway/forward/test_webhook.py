"""WebhookSink: Standard Webhooks signing; the HTTP answer decides retry or give up."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from gateway.console.openapi import openapi_spec
from gateway.errors import DeliveryError, PermanentDeliveryError
from gateway.forward.webhook import SpreadClient, WebhookSink, batch_body, batch_id
from gateway.store.outbox import OutboxItem

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
URL = "http://cc.example/webhook"


def item(n: int = 1, note: str = "请帮我") -> OutboxItem:
    event_id = f"alert:T0001:b{n}"
    body = {"event_id": event_id, "type": "alert", "data": {"note": note}}
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return OutboxItem(event_id, "webhook", 0, 0, 1.0, "alert", raw)


ITEM = item()


def sink_answering(status: int, seen: list[httpx.Request], *, batch: bool = True) -> WebhookSink:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    return WebhookSink(URL, SECRET, client, batch=batch)


async def test_a_batch_is_one_signed_post_the_receiver_can_verify() -> None:
    seen: list[httpx.Request] = []
    items = [item(1), item(2, note="第二"), item(3)]

    assert await sink_answering(204, seen).deliver(items) == {}

    [request] = seen
    assert (request.method, str(request.url)) == ("POST", URL)
    assert request.headers["content-type"] == "application/json"
    payload = Webhook(SECRET).verify(request.content, dict(request.headers))
    assert payload["type"] == "batch"
    assert payload["batch_id"] == request.headers["webhook-id"] == batch_id(items)
    assert payload["count"] == 3
    assert payload["events"] == [i.body for i in items]


def test_the_same_events_make_the_same_batch_id() -> None:
    assert batch_id([item(1), item(2)]) == batch_id([item(1), item(2)])
    assert batch_id([item(1), item(2)]) != batch_id([item(1)])
    assert batch_id([item(1)]).startswith("batch_")


async def test_event_format_sends_each_event_alone_with_its_own_id() -> None:
    seen: list[httpx.Request] = []

    assert await sink_answering(200, seen, batch=False).deliver([item(1), item(2)]) == {}

    assert [r.headers["webhook-id"] for r in seen] == ["alert:T0001:b1", "alert:T0001:b2"]
    for request, sent in zip(seen, [item(1), item(2)], strict=True):
        assert Webhook(SECRET).verify(request.content, dict(request.headers)) == sent.body


async def test_signature_does_not_verify_with_another_secret() -> None:
    seen: list[httpx.Request] = []
    await sink_answering(200, seen).deliver([ITEM])

    other = Webhook("whsec_" + "A" * 32)
    with pytest.raises(WebhookVerificationError, match="signature"):
        other.verify(seen[0].content, dict(seen[0].headers))


@pytest.mark.parametrize("status", [400, 410, 413, 422])
async def test_refusal_of_the_payload_is_permanent_for_every_event(status: int) -> None:
    failures = await sink_answering(status, []).deliver([item(1), item(2)])

    assert sorted(failures) == ["alert:T0001:b1", "alert:T0001:b2"]
    for error in failures.values():
        assert isinstance(error, PermanentDeliveryError)
        assert str(error) == f"HTTP {status}"


@pytest.mark.parametrize("status", [401, 403, 404, 408, 429, 500, 502, 503])
async def test_other_failures_are_retryable(status: int) -> None:
    failures = await sink_answering(status, []).deliver([ITEM])

    [error] = failures.values()
    assert str(error) == f"HTTP {status}"
    assert not isinstance(error, PermanentDeliveryError)


async def test_connection_failure_is_a_retryable_delivery_error() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    sink = WebhookSink(URL, SECRET, httpx.AsyncClient(transport=httpx.MockTransport(refuse)))

    [error] = (await sink.deliver([ITEM])).values()

    assert isinstance(error, DeliveryError)
    assert "ConnectError" in str(error)
    assert isinstance(error.__cause__, httpx.ConnectError)


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


def test_the_batch_body_is_what_the_openapi_document_describes() -> None:
    body = json.loads(batch_body([item(1), item(2)], "batch_x", datetime.now(UTC)))
    schemas = openapi_spec()["components"]["schemas"]

    assert sorted(body) == sorted(schemas["EventBatch"]["required"])
    assert openapi_spec()["webhooks"]["events"]["post"]["requestBody"]["required"]
    for event in body["events"]:
        assert set(event) <= set(schemas["Event"]["properties"])
