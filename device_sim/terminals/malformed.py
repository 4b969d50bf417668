"""Payloads that break the protocol on purpose, one per rejection class.

Each class names the :class:`~firmware_protocol.errors.Reason` a conforming gateway
must reject it with, so tests can compare the gateway's rejection counters with what
was sent.
"""

from __future__ import annotations

import enum
import json
from typing import Any

from firmware_protocol.codec import encode_alert
from firmware_protocol.errors import Reason
from firmware_protocol.messages import MAX_PAYLOAD_BYTES, Alert, AlertKind


class Malformed(enum.StrEnum):
    """One way to get an alert payload wrong."""

    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    WRONG_VERSION = "wrong_version"
    UNKNOWN_KIND = "unknown_kind"
    MISSING_FIELD = "missing_field"
    MISTYPED_FIELD = "mistyped_field"
    OVERSIZE = "oversize"
    TERMINAL_MISMATCH = "terminal_mismatch"

    @property
    def reason(self) -> Reason:
        """The rejection reason the gateway must report for this payload."""
        return _REASONS[self]


_REASONS = {
    Malformed.NOT_JSON: Reason.NOT_JSON,
    Malformed.NOT_OBJECT: Reason.NOT_OBJECT,
    Malformed.WRONG_VERSION: Reason.BAD_VERSION,
    Malformed.UNKNOWN_KIND: Reason.UNKNOWN_KIND,
    Malformed.MISSING_FIELD: Reason.MISSING_FIELD,
    Malformed.MISTYPED_FIELD: Reason.BAD_TYPE,
    Malformed.OVERSIZE: Reason.OVERSIZE,
    Malformed.TERMINAL_MISMATCH: Reason.TERMINAL_MISMATCH,
}


def parse_malformed(text: str) -> Malformed:
    """``Malformed`` from its name; the error lists the valid names."""
    try:
        return Malformed(text.strip().lower().replace("-", "_"))
    except ValueError:
        names = ", ".join(m.value for m in Malformed)
        raise ValueError(f"unknown malformed class {text!r}; choose one of {names}") from None


def malformed_payload(klass: Malformed, terminal_id: str, alert_id: str, now: float) -> bytes:
    """An alert payload from ``terminal_id`` broken in the way ``klass`` names."""
    valid = encode_alert(Alert(terminal_id, alert_id, AlertKind.EMERGENCY, round(now, 3)))
    doc: dict[str, Any] = json.loads(valid)
    match klass:
        case Malformed.NOT_JSON:
            return b"ALARM " + alert_id.encode() + b" {not json"
        case Malformed.NOT_OBJECT:
            return json.dumps([doc]).encode()
        case Malformed.WRONG_VERSION:
            doc["v"] = 2
        case Malformed.UNKNOWN_KIND:
            doc["kind"] = "teleport"
        case Malformed.MISSING_FIELD:
            del doc["alert_id"]
        case Malformed.MISTYPED_FIELD:
            doc["ts"] = "yesterday"
        case Malformed.OVERSIZE:
            doc["note"] = "x" * (MAX_PAYLOAD_BYTES + 1)
        case Malformed.TERMINAL_MISMATCH:
            doc["terminal_id"] = f"not-{terminal_id}"[:64]
    return json.dumps(doc, separators=(",", ":")).encode()
