"""First stop for every uplink message: decode, check the sender, count rejections.

A bad message never raises out of here: it is counted by reason, logged once per
(terminal, reason) and window, and dropped; the rest of the batch goes on.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from firmware_protocol.codec import decode_uplink
from firmware_protocol.errors import ProtocolError, Reason
from firmware_protocol.messages import Uplink
from gateway import metrics
from gateway.logonce import LogOnce
from gateway.registry import Terminal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Raw:
    """A message as it came off the broker."""

    topic: str
    payload: bytes


class Router:
    """Decodes raw messages into protocol values from registered terminals."""

    def __init__(self, registry: Mapping[str, Terminal]) -> None:
        self._registry = registry
        self._log_once = LogOnce(log)

    def route(self, raws: Iterable[Raw], now: float) -> list[Uplink]:
        accepted: list[Uplink] = []
        counts: Counter[str] = Counter()
        for raw in raws:
            try:
                message = decode_uplink(raw.topic, raw.payload)
                if message.terminal_id not in self._registry:
                    raise ProtocolError(Reason.UNKNOWN_TERMINAL, "terminal is not registered")
            except ProtocolError as exc:
                self._reject(raw, exc, now)
                continue
            counts[type(message).__name__.lower()] += 1
            accepted.append(message)
        for channel, count in counts.items():
            metrics.MESSAGES.labels(channel).inc(count)
        return accepted

    def _reject(self, raw: Raw, exc: ProtocolError, now: float) -> None:
        metrics.REJECTED.labels(exc.reason.value).inc()
        sender = raw.topic.split("/")[3] if raw.topic.count("/") >= 4 else "?"
        self._log_once.warning(
            (sender, exc.reason),
            now,
            "rejected message on %s: %s (further ones like it muted for a while)",
            raw.topic[:120],
            exc,
        )
