"""First stop for every uplink message: decode, check the sender, count rejections.

A bad message never raises out of here: it is counted by reason, logged once per
(terminal, reason) and window, and dropped; the rest of the batch goes on. On a district
broker the topic carries the zone of the town broker the message came through; a
terminal's message from any zone but its registered one is rejected as ``wrong_zone``.
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
from gateway.zones import split_zone

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Raw:
    """A message as it came off the broker."""

    topic: str
    payload: bytes


#: The gateway's own rejection reason (beside the protocol's): a message arrived through
#: a town broker other than the terminal's registered one.
WRONG_ZONE = "wrong_zone"


class _WrongZone(Exception):
    pass


class Router:
    """Decodes raw messages into protocol values from registered terminals."""

    def __init__(self, registry: Mapping[str, Terminal], bridged: bool = False) -> None:
        self._registry = registry
        self._bridged = bridged
        self._log_once = LogOnce(log)

    def route(self, raws: Iterable[Raw], now: float) -> list[Uplink]:
        accepted: list[Uplink] = []
        counts: Counter[str] = Counter()
        for raw in raws:
            try:
                message = self._decode(raw)
            except ProtocolError as exc:
                self._reject(raw, exc.reason.value, exc, now)
                continue
            except _WrongZone as exc:
                self._reject(raw, WRONG_ZONE, exc, now)
                continue
            counts[type(message).__name__.lower()] += 1
            accepted.append(message)
        for channel, count in counts.items():
            metrics.MESSAGES.labels(channel).inc(count)
        return accepted

    def _decode(self, raw: Raw) -> Uplink:
        zone, name = split_zone(raw.topic) if self._bridged else (None, raw.topic)
        if self._bridged and zone is None:
            raise ProtocolError(Reason.BAD_TOPIC, f"no zone in {raw.topic[:120]!r}")
        message = decode_uplink(name, raw.payload)
        terminal = self._registry.get(message.terminal_id)
        if terminal is None:
            raise ProtocolError(Reason.UNKNOWN_TERMINAL, "terminal is not registered")
        if terminal.zone != zone:
            raise _WrongZone(
                f"{WRONG_ZONE}: registered in zone {terminal.zone!r}, came through {zone!r}"
            )
        return message

    def _reject(self, raw: Raw, reason: str, exc: Exception, now: float) -> None:
        metrics.REJECTED.labels(reason).inc()
        name = split_zone(raw.topic)[1]
        sender = name.split("/")[3] if name.count("/") >= 4 else "?"
        self._log_once.warning(
            (sender, reason),
            now,
            "rejected message on %s: %s (further ones like it muted for a while)",
            raw.topic[:120],
            exc,
        )
