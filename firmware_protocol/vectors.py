"""Conformance vectors: the examples of PROTOCOL.md as data, for any implementation to test.

Each ``vectors/*.json`` file is ``{"format": 1, "direction": "uplink"|"downlink",
"description": …, "vectors": [...]}``; PROTOCOL.md ("Conformance vectors") describes a
vector's fields. The loader is strict: an unknown or missing key is an error naming the
file, the vector and the key, so a typo in a vector cannot silently weaken a test.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

from firmware_protocol.errors import Reason

Direction = Literal["uplink", "downlink"]

_REQUIRED = frozenset({"name", "topic", "valid", "gateway_answer"})
_OPTIONAL = frozenset({"payload", "payload_hex", "reason", "decoded", "needs_registry", "note"})
_FILE_KEYS = frozenset({"format", "direction", "description", "vectors"})


@dataclass(frozen=True, slots=True)
class Vector:
    """One message and what every conforming implementation must make of it.

    ``decoded`` holds the decoded fields (absent ones left out) when ``valid``; ``reason``
    the rejection reason otherwise. ``gateway_answer`` is ``None`` or ``{"acks": [...]}``.
    Treat the mappings as read-only.
    """

    name: str
    source: str
    direction: Direction
    topic: str
    payload: bytes
    valid: bool
    reason: Reason | None
    decoded: Mapping[str, Any] | None
    gateway_answer: Mapping[str, Any] | None
    needs_registry: bool = False
    note: str | None = None


class VectorFileError(ValueError):
    """A vector file that does not follow the documented format."""


def load_vectors() -> list[Vector]:
    """Every vector of every file shipped in ``firmware_protocol/vectors``, in file order."""
    folder = resources.files("firmware_protocol").joinpath("vectors")
    files = sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )
    return [v for entry in files for v in parse_vectors(entry.read_text("utf-8"), entry.name)]


def parse_vectors(text: str, source: str) -> list[Vector]:
    """The vectors of one file's ``text``; ``source`` names the file in errors."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise VectorFileError(f"{source}: not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise VectorFileError(f"{source}: the top level must be an object")
    _check_keys(doc, _FILE_KEYS, _FILE_KEYS, source)
    if doc["format"] != 1:
        raise VectorFileError(f"{source}: unsupported format {doc['format']!r}")
    direction = doc["direction"]
    if direction not in ("uplink", "downlink"):
        raise VectorFileError(f"{source}: direction must be 'uplink' or 'downlink'")
    if not isinstance(doc["vectors"], list):
        raise VectorFileError(f"{source}: 'vectors' must be a list")
    return [_vector(raw, direction, source, n) for n, raw in enumerate(doc["vectors"])]


def _vector(raw: Any, direction: Direction, source: str, index: int) -> Vector:
    if not isinstance(raw, dict):
        raise VectorFileError(f"{source}[{index}]: a vector must be an object")
    where = f"{source}[{index}] {raw.get('name')!r}"
    _check_keys(raw, _REQUIRED, _REQUIRED | _OPTIONAL, where)
    valid = raw["valid"]
    if not isinstance(valid, bool):
        raise VectorFileError(f"{where}: 'valid' must be true or false")
    if ("decoded" in raw) != valid or ("reason" in raw) == valid:
        raise VectorFileError(f"{where}: a valid vector has 'decoded', an invalid one 'reason'")
    return Vector(
        name=raw["name"],
        source=source,
        direction=direction,
        topic=raw["topic"],
        payload=_payload(raw, where),
        valid=valid,
        reason=_reason(raw.get("reason"), where),
        decoded=raw.get("decoded"),
        gateway_answer=raw["gateway_answer"],
        needs_registry=bool(raw.get("needs_registry", False)),
        note=raw.get("note"),
    )


def _payload(raw: dict[str, Any], where: str) -> bytes:
    if ("payload" in raw) == ("payload_hex" in raw):
        raise VectorFileError(f"{where}: exactly one of 'payload' and 'payload_hex'")
    if "payload" in raw:
        if not isinstance(raw["payload"], str):
            raise VectorFileError(f"{where}: 'payload' must be a string")
        return raw["payload"].encode("utf-8")
    try:
        return bytes.fromhex(raw["payload_hex"])
    except ValueError as exc:
        raise VectorFileError(f"{where}: 'payload_hex' is not hex") from exc


def _reason(value: Any, where: str) -> Reason | None:
    if value is None:
        return None
    try:
        return Reason(value)
    except ValueError:
        raise VectorFileError(f"{where}: unknown reason {value!r}") from None


def _check_keys(
    raw: dict[str, Any], required: frozenset[str], known: frozenset[str], where: str
) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise VectorFileError(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(required - set(raw))
    if missing:
        raise VectorFileError(f"{where}: missing key(s) {', '.join(missing)}")
