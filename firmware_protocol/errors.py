"""The one error the codec raises, and the closed list of reasons it carries.

Every rejected message maps to exactly one :class:`Reason`; the gateway counts
rejections by ``reason.value`` and the conformance vectors name the same values.
"""

from __future__ import annotations

import enum


class Reason(enum.StrEnum):
    """Why a message was rejected (metric label and log field)."""

    OVERSIZE = "oversize"
    NOT_JSON = "not_json"
    NOT_OBJECT = "not_object"
    BAD_VERSION = "bad_version"
    MISSING_FIELD = "missing_field"
    BAD_TYPE = "bad_type"
    BAD_VALUE = "bad_value"
    UNKNOWN_KIND = "unknown_kind"
    BAD_TOPIC = "bad_topic"
    TERMINAL_MISMATCH = "terminal_mismatch"
    UNKNOWN_TERMINAL = "unknown_terminal"


class ProtocolError(ValueError):
    """A payload or topic that does not follow PROTOCOL.md.

    ``reason`` is machine-readable; ``field`` names the offending field when there is one.
    """

    def __init__(self, reason: Reason, detail: str, field: str | None = None) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
        self.field = field
