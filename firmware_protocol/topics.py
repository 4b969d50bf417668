"""Topic names: ``ec/v1/t/{terminal_id}/{channel}``."""

from __future__ import annotations

import enum
import re

from firmware_protocol.errors import ProtocolError, Reason

PREFIX = "ec/v1/t"
#: Terminal ids are also MQTT usernames and topic levels: no ``/ + #``, no spaces.
#: ``\Z``, not ``$``: ``$`` also matches before a trailing newline.
TERMINAL_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")


class Channel(enum.StrEnum):
    """The last topic level. Uplink: alert, health, status. Downlink: ack, cmd."""

    ALERT = "alert"
    HEALTH = "health"
    STATUS = "status"
    ACK = "ack"
    CMD = "cmd"


UPLINK = frozenset({Channel.ALERT, Channel.HEALTH, Channel.STATUS})


def topic(terminal_id: str, channel: Channel) -> str:
    """The topic of ``channel`` for ``terminal_id``."""
    if not TERMINAL_ID_RE.match(terminal_id):
        raise ProtocolError(Reason.BAD_TOPIC, f"invalid terminal id {terminal_id!r}")
    return f"{PREFIX}/{terminal_id}/{channel.value}"


def parse_topic(name: str) -> tuple[str, Channel]:
    """Split a topic into (terminal_id, channel); raise ``ProtocolError(BAD_TOPIC)``."""
    parts = name.split("/")
    if len(parts) != 5 or "/".join(parts[:3]) != PREFIX:
        raise ProtocolError(Reason.BAD_TOPIC, f"not an ec/v1 terminal topic: {name[:120]!r}")
    terminal_id, last = parts[3], parts[4]
    if not TERMINAL_ID_RE.match(terminal_id):
        raise ProtocolError(Reason.BAD_TOPIC, f"invalid terminal id in topic: {name[:120]!r}")
    try:
        return terminal_id, Channel(last)
    except ValueError:
        raise ProtocolError(Reason.BAD_TOPIC, f"unknown channel {last[:32]!r}") from None


def subscription(channel: Channel, share_group: str | None = None) -> str:
    """Wildcard filter for one channel of every terminal, optionally MQTT 5 shared."""
    flt = f"{PREFIX}/+/{channel.value}"
    return f"$share/{share_group}/{flt}" if share_group else flt
