"""Events: everything the gateway tells the command center, in one shape.

An event is created once, stored in the same transaction as the fact it reports, and
forwarded from the outbox. ``event_id`` is the end-to-end idempotency id: it is derived
from the source's own ids (terminal + alert id, camera + transition time …) so that a
retransmission or a second gateway process produces the same id and is absorbed by
``INSERT … ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Priority(enum.IntEnum):
    """Forwarding order: lower goes first. Telemetry never delays an alarm."""

    ALERT = 0
    SUPERVISION = 1
    HEALTH = 2
    STATUS = 3


@dataclass(frozen=True, slots=True)
class Event:
    """One fact for the command center."""

    event_id: str
    type: str
    priority: Priority
    occurred_at: float
    source: str
    region: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The body forwarded upstream (webhook and MQTT alike)."""
        return {
            "event_id": self.event_id,
            "type": self.type,
            "occurred_at": self.occurred_at,
            "source": self.source,
            "region": list(self.region),
            "data": dict(self.data),
        }


#: Compact UTF-8 JSON, as event bodies are stored and forwarded.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_json(value: Any) -> str:
    """``value`` as compact JSON text (non-ASCII kept as is)."""
    return _ENCODER.encode(value)


class EventSink(Protocol):
    """Where components hand events: stored durably with an outbox row per sink.

    ``emit`` returns only after the events are committed; a duplicate event_id is a no-op.
    """

    async def emit(self, events: Sequence[Event]) -> None: ...
