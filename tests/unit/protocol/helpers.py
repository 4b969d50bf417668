"""Decode any message by its topic, and flatten a decoded message for comparison."""

from __future__ import annotations

import enum
from dataclasses import fields, is_dataclass
from typing import Any

from firmware_protocol.codec import decode_ack, decode_command, decode_uplink
from firmware_protocol.messages import Ack, Command, Uplink
from firmware_protocol.topics import UPLINK, Channel, parse_topic
from firmware_protocol.vectors import Vector


def decode_message(topic_name: str, payload: bytes) -> Uplink | Ack | Command:
    """Decode with the decoder the topic's channel calls for (uplink or downlink)."""
    _, channel = parse_topic(topic_name)
    if channel in UPLINK:
        return decode_uplink(topic_name, payload)
    return decode_ack(payload) if channel is Channel.ACK else decode_command(payload)


def decode_vector(vector: Vector) -> Uplink | Ack | Command:
    """Decode as the receiving side does: the gateway any uplink topic, a terminal ack/cmd."""
    if vector.direction == "uplink":
        return decode_uplink(vector.topic, vector.payload)
    return decode_message(vector.topic, vector.payload)


def fields_of(message: Any) -> dict[str, Any]:
    """A decoded message as plain JSON values, leaving out absent (None) fields."""
    out: dict[str, Any] = {}
    for field in fields(message):
        value = getattr(message, field.name)
        if is_dataclass(value):
            value = fields_of(value)
        elif isinstance(value, enum.Enum):
            value = value.value
        if value is not None:
            out[field.name] = value
    return out


def same_json(left: Any, right: Any) -> bool:
    """Equal values of the same JSON type: 72 is not 72.0, and true is not 1."""
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same_json(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(same_json, left, right))
    return type(left) is type(right) and left == right
