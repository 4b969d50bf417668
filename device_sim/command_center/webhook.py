"""Receiving one webhook: failure mode, Standard Webhooks signature, dedup, record.

A request carries one event, or a batch (``{"type": "batch", "events": [...]}``) that is
accepted or refused as a whole; either way each event is deduplicated on its
``event_id``, as the gateway's webhook documentation asks of a command center.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from device_sim.command_center.modes import ModeSwitch
from device_sim.command_center.records import BadEventError, EventLog, Received, parse_event

Reply = tuple[int, dict[str, Any]]


class WebhookInbox:
    """Turns a webhook request (body and headers) into a status and a small JSON answer."""

    def __init__(
        self,
        secret: str,
        log: EventLog,
        switch: ModeSwitch,
        on_event: Callable[[Received], None],
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._webhook = Webhook(secret)
        self._log = log
        self._switch = switch
        self._on_event = on_event
        self._clock = clock
        self._rng = rng or random.Random()

    async def receive(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        """Handle one ``POST /webhook``."""
        answer = self._switch.answer(self._clock(), self._rng.random())
        if answer.delay_s > 0:
            self._log.tally.slowed += 1
            await asyncio.sleep(answer.delay_s)
        if answer.status is not None:
            self._log.tally.failed_on_purpose += 1
            return answer.status, {"error": "failing on purpose"}
        return self._accept(body, {k.lower(): v for k, v in headers.items()})

    def _accept(self, body: bytes, headers: dict[str, str]) -> Reply:
        try:
            self._webhook.verify(body, headers, json_parse=False)
        except (WebhookVerificationError, ValueError):  # ValueError: garbled signature header
            self._log.tally.bad_signatures += 1
            return 401, {"error": "bad signature"}
        webhook_id = headers["webhook-id"]
        now = self._clock()
        try:
            events = [parse_event(webhook_id, e, now) for e in _events(json.loads(body))]
        except (BadEventError, ValueError) as exc:
            self._log.tally.bad_events += 1
            return 400, {"error": str(exc)}
        fresh = [event for event in events if self._log.add(event)]
        for event in fresh:
            self._on_event(event)
        answer: dict[str, Any] = {"ok": True, "accepted": len(fresh)}
        answer["duplicates"] = len(events) - len(fresh)
        if len(events) == 1:
            answer["duplicate"] = not fresh
        return 200, answer


def _events(payload: object) -> list[object]:
    """The events a request carries: a batch's list, or the body itself."""
    if isinstance(payload, dict) and payload.get("type") == "batch":
        events = payload.get("events")
        if not isinstance(events, list) or not events:
            raise BadEventError("events: a batch needs a non-empty list")
        return events
    return [payload]
