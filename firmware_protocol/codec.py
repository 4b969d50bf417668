"""Encode and decode protocol v1 payloads (JSON, UTF-8).

Decoding is strict about what it knows and lenient about what it does not: unknown
fields are ignored (room for compatible additions within v1), known fields must have
the documented type and range. Every failure is a :class:`ProtocolError` with one
:class:`Reason`; nothing else escapes, whatever the bytes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from firmware_protocol.errors import ProtocolError, Reason
from firmware_protocol.messages import (
    GATEWAY_ALERT_PREFIX,
    MAX_PAYLOAD_BYTES,
    VERSION,
    Ack,
    Alert,
    AlertKind,
    Command,
    CommandName,
    Health,
    Stage,
    Status,
    TerminalState,
    Uplink,
    Vitals,
)
from firmware_protocol.topics import Channel, parse_topic

#: alert_id, report_id, cmd_id: printable, no spaces, 1..64 characters.
ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,64}\Z")
MAX_ID = 64
#: report_id is shorter so that the gateway's alert id ``v-{report_id}`` fits in MAX_ID.
MAX_REPORT_ID = MAX_ID - len(GATEWAY_ALERT_PREFIX)
MAX_TEXT = 200
#: Deepest nesting of objects and arrays accepted (v1 itself needs 2). An explicit
#: limit, because the parser's own recursion limit depends on the caller's stack.
MAX_DEPTH = 16
_E = TypeVar("_E")

# name -> (python type, minimum, maximum); bool is checked apart (it is an int in Python).
_VITALS: dict[str, tuple[type, float, float]] = {
    "bp_systolic_mmhg": (int, 30, 300),
    "bp_diastolic_mmhg": (int, 10, 250),
    "heart_rate_bpm": (int, 0, 300),
    "spo2_pct": (float, 0, 100),
    "body_temp_c": (float, 20, 45),
    "glucose_mmol_l": (float, 0, 60),
    "steps": (int, 0, 1_000_000),
}


def _fail(reason: Reason, detail: str, field: str | None = None) -> NoReturn:
    raise ProtocolError(reason, detail, field)


def _reject_constant(name: str) -> NoReturn:
    _fail(Reason.NOT_JSON, f"non-standard JSON constant {name}")


def _too_deep(text: str) -> bool:
    """Whether objects/arrays nest deeper than MAX_DEPTH (brackets in strings excluded)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if escaped:
            escaped = False
        elif in_string:
            escaped = char == "\\"
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


#: One decoder for every payload (json.loads with arguments builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _load(payload: bytes) -> dict[str, Any]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        _fail(Reason.OVERSIZE, f"{len(payload)} bytes > {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
        if _too_deep(text):
            _fail(Reason.NOT_JSON, f"objects/arrays nested deeper than {MAX_DEPTH}")
        doc = _DECODER.decode(text)
    except ProtocolError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProtocolError(Reason.NOT_JSON, f"payload is not UTF-8 JSON: {exc}") from exc
    if not isinstance(doc, dict):
        _fail(Reason.NOT_OBJECT, f"payload is a JSON {type(doc).__name__}, not an object")
    version = doc.get("v")
    if version is None:
        _fail(Reason.MISSING_FIELD, "field 'v' is required", "v")
    if type(version) is not int or version != VERSION:
        _fail(Reason.BAD_VERSION, f"unsupported protocol version {version!r}", "v")
    return doc


def _required(doc: dict[str, Any], name: str) -> Any:
    if name not in doc or doc[name] is None:
        _fail(Reason.MISSING_FIELD, f"field {name!r} is required", name)
    return doc[name]


def _ident(doc: dict[str, Any], name: str) -> str:
    return _check_ident(_required(doc, name), name)


def _optional_ident(doc: dict[str, Any], name: str) -> str | None:
    value = doc.get(name)
    return None if value is None else _check_ident(value, name)


def _check_ident(value: Any, name: str) -> str:
    if not isinstance(value, str):
        _fail(Reason.BAD_TYPE, f"{name!r} must be a string", name)
    if not ID_RE.match(value):
        _fail(Reason.BAD_VALUE, f"{name!r} must match {ID_RE.pattern}", name)
    return value


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        _fail(Reason.BAD_TYPE, f"{name!r} must be a number", name)
    try:
        number = float(value)  # an integer literal of 309+ digits overflows
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        _fail(Reason.BAD_VALUE, f"{name!r} must be finite", name)
    return number


def _timestamp(doc: dict[str, Any]) -> float:
    return _check_timestamp(_required(doc, "ts"))


def _optional_timestamp(doc: dict[str, Any]) -> float | None:
    value = doc.get("ts")
    return None if value is None else _check_timestamp(value)


def _check_timestamp(value: Any) -> float:
    ts = _number(value, "ts")
    if not 0 <= ts < 2**32:
        _fail(Reason.BAD_VALUE, "'ts' must be unix seconds in [0, 2^32)", "ts")
    return ts


def _text(doc: dict[str, Any], name: str, limit: int = MAX_TEXT) -> str | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        _fail(Reason.BAD_TYPE, f"{name!r} must be a string", name)
    if len(value) > limit:
        _fail(Reason.BAD_VALUE, f"{name!r} longer than {limit} characters", name)
    if not _is_unicode(value):
        _fail(Reason.BAD_VALUE, f"{name!r} holds an unpaired surrogate escape", name)
    return value


def _is_unicode(value: str) -> bool:
    """False for an unpaired surrogate, which json.loads lets through from e.g. ``"\\ud800"``."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _bounded_int(doc: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(Reason.BAD_TYPE, f"{name!r} must be an integer", name)
    if not low <= value <= high:
        _fail(Reason.BAD_VALUE, f"{name!r} must be in [{low}, {high}]", name)
    return value


def _check_terminal(doc: dict[str, Any], terminal_id: str) -> None:
    claimed = doc.get("terminal_id")
    if claimed is not None and claimed != terminal_id:
        _fail(
            Reason.TERMINAL_MISMATCH,
            f"payload terminal_id {str(claimed)[:64]!r} differs from topic {terminal_id!r}",
            "terminal_id",
        )


def _enum(doc: dict[str, Any], name: str, enum_type: Callable[[str], _E], reason: Reason) -> _E:
    value = _required(doc, name)
    if not isinstance(value, str):
        _fail(Reason.BAD_TYPE, f"{name!r} must be a string", name)
    try:
        return enum_type(value)
    except ValueError:
        _fail(reason, f"unknown {name} {value[:32]!r}", name)


# --- uplink -------------------------------------------------------------------------------


def decode_alert(terminal_id: str, payload: bytes) -> Alert:
    """Decode an ``alert`` payload published by ``terminal_id``."""
    doc = _load(payload)
    _check_terminal(doc, terminal_id)
    alert_id = _ident(doc, "alert_id")
    if alert_id.startswith(GATEWAY_ALERT_PREFIX):
        _fail(Reason.BAD_VALUE, f"alert_id prefix {GATEWAY_ALERT_PREFIX!r} is reserved", "alert_id")
    kind = _enum(doc, "kind", AlertKind, Reason.UNKNOWN_KIND)
    ts = _timestamp(doc)
    cancels = (_ident if kind is AlertKind.CANCEL else _optional_ident)(doc, "cancels")
    return Alert(terminal_id, alert_id, kind, ts, cancels=cancels, note=_text(doc, "note"))


def _vital(name: str, value: Any) -> int | float:
    kind, low, high = _VITALS[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        _fail(Reason.BAD_TYPE, f"vitals.{name} must be an integer", f"vitals.{name}")
    number = _number(value, f"vitals.{name}")
    if not low <= number <= high:
        _fail(Reason.BAD_VALUE, f"vitals.{name} must be in [{low}, {high}]", f"vitals.{name}")
    return value if kind is int else number


def _vitals(doc: dict[str, Any]) -> Vitals:
    raw = _required(doc, "vitals")
    if not isinstance(raw, dict):
        _fail(Reason.BAD_TYPE, "'vitals' must be an object", "vitals")
    fall = raw.get("fall_detected")
    if fall is not None and not isinstance(fall, bool):
        _fail(Reason.BAD_TYPE, "vitals.fall_detected must be true or false", "vitals.fall_detected")
    # In the table's order, so that the first bad vital is the one reported.
    values = {name: _vital(name, raw[name]) for name in _VITALS if raw.get(name) is not None}
    vitals = Vitals(fall_detected=fall, **values)  # type: ignore[arg-type]
    if not vitals.present():
        _fail(Reason.MISSING_FIELD, "'vitals' must hold at least one known vital", "vitals")
    return vitals


def decode_health(terminal_id: str, payload: bytes) -> Health:
    """Decode a ``health`` payload published by ``terminal_id``."""
    doc = _load(payload)
    _check_terminal(doc, terminal_id)
    report_id = _ident(doc, "report_id")
    if len(report_id) > MAX_REPORT_ID:
        _fail(Reason.BAD_VALUE, f"'report_id' longer than {MAX_REPORT_ID} characters", "report_id")
    ts = _timestamp(doc)
    return Health(terminal_id, report_id, ts, _vitals(doc))


def decode_status(terminal_id: str, payload: bytes) -> Status:
    """Decode a ``status`` payload (availability and device status)."""
    doc = _load(payload)
    _check_terminal(doc, terminal_id)
    return Status(
        terminal_id,
        _enum(doc, "state", TerminalState, Reason.BAD_VALUE),
        ts=_optional_timestamp(doc),
        battery_pct=_bounded_int(doc, "battery_pct", 0, 100),
        signal_dbm=_bounded_int(doc, "signal_dbm", -150, 0),
        firmware=_text(doc, "firmware", limit=32),
    )


_UPLINK_DECODERS: dict[Channel, Callable[[str, bytes], Uplink]] = {
    Channel.ALERT: decode_alert,
    Channel.HEALTH: decode_health,
    Channel.STATUS: decode_status,
}


def decode_uplink(topic_name: str, payload: bytes) -> Uplink:
    """Decode any uplink message from its topic and payload."""
    terminal_id, channel = parse_topic(topic_name)
    decoder = _UPLINK_DECODERS.get(channel)
    if decoder is None:
        _fail(Reason.BAD_TOPIC, f"{channel.value!r} is a downlink channel")
    return decoder(terminal_id, payload)


#: Compact UTF-8 JSON; one encoder for every payload (json.dumps with arguments builds
#: a new one per call).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _dump(doc: dict[str, Any]) -> bytes:
    return _ENCODER.encode({k: v for k, v in doc.items() if v is not None}).encode()


def encode_alert(alert: Alert) -> bytes:
    """The payload a terminal publishes for ``alert``."""
    return _dump(
        {
            "v": VERSION,
            "alert_id": alert.alert_id,
            "kind": alert.kind.value,
            "ts": alert.ts,
            "cancels": alert.cancels,
            "note": alert.note,
        }
    )


def encode_health(health: Health) -> bytes:
    """The payload a terminal publishes for ``health``."""
    return _dump(
        {
            "v": VERSION,
            "report_id": health.report_id,
            "ts": health.ts,
            "vitals": health.vitals.present(),
        }
    )


def encode_status(status: Status) -> bytes:
    """The payload a terminal publishes on its status topic (also its last will)."""
    return _dump(
        {
            "v": VERSION,
            "state": status.state.value,
            "ts": status.ts,
            "battery_pct": status.battery_pct,
            "signal_dbm": status.signal_dbm,
            "firmware": status.firmware,
        }
    )


# --- downlink -----------------------------------------------------------------------------


def encode_ack(ack: Ack) -> bytes:
    """The payload the gateway publishes on ``…/ack``."""
    return _dump(
        {
            "v": VERSION,
            "alert_id": ack.alert_id,
            "stage": ack.stage.value,
            "ts": ack.ts,
            "by": ack.by,
            "eta_s": ack.eta_s,
            "note": ack.note,
        }
    )


def decode_ack(payload: bytes) -> Ack:
    """Decode an ``ack`` payload (what a terminal does on receipt)."""
    doc = _load(payload)
    alert_id = _ident(doc, "alert_id")
    stage = _enum(doc, "stage", Stage, Reason.BAD_VALUE)
    ts = _timestamp(doc)
    return Ack(
        alert_id,
        stage,
        ts,
        by=_text(doc, "by", limit=64),
        eta_s=_bounded_int(doc, "eta_s", 0, 86_400),
        note=_text(doc, "note"),
    )


def encode_command(command: Command) -> bytes:
    """The payload the gateway publishes on ``…/cmd``."""
    return _dump(
        {
            "v": VERSION,
            "cmd_id": command.cmd_id,
            "cmd": command.cmd.value,
            "ts": command.ts,
            "args": command.args or None,
        }
    )


def decode_command(payload: bytes) -> Command:
    """Decode a ``cmd`` payload (what a terminal does on receipt)."""
    doc = _load(payload)
    cmd_id = _ident(doc, "cmd_id")
    cmd = _enum(doc, "cmd", CommandName, Reason.BAD_VALUE)
    ts = _timestamp(doc)
    args = doc.get("args")
    args = {} if args is None else args
    if not isinstance(args, dict):
        _fail(Reason.BAD_TYPE, "'args' must be an object", "args")
    if not _is_unicode(json.dumps(args, ensure_ascii=False)):
        _fail(Reason.BAD_VALUE, "'args' holds an unpaired surrogate escape", "args")
    return Command(cmd_id, cmd, ts, args)
