"""PROTOCOL.md cannot drift from the code: every value and limit it must name, it names."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from firmware_protocol.codec import _VITALS, MAX_DEPTH, MAX_REPORT_ID, MAX_TEXT
from firmware_protocol.errors import Reason
from firmware_protocol.messages import (
    GATEWAY_ALERT_PREFIX,
    MAX_PAYLOAD_BYTES,
    AlertKind,
    CommandName,
    Stage,
    TerminalState,
    Vitals,
)
from firmware_protocol.topics import Channel
from tests.unit.protocol.helpers import decode_message

DOC = resources.files("firmware_protocol").joinpath("PROTOCOL.md").read_text("utf-8")

NAMED = [
    *(r.value for r in Reason),
    *(k.value for k in AlertKind),
    *(s.value for s in Stage),
    *(t.value for t in TerminalState),
    *(c.value for c in CommandName),
    *(c.value for c in Channel),
    *Vitals.__slots__,
    GATEWAY_ALERT_PREFIX,
]


@pytest.mark.parametrize("name", NAMED)
def test_doc_names_every_value_in_code_font(name: str) -> None:
    assert f"`{name}`" in DOC


@pytest.mark.parametrize("limit", [MAX_PAYLOAD_BYTES, MAX_DEPTH, MAX_TEXT, MAX_REPORT_ID])
def test_doc_states_every_limit(limit: int) -> None:
    assert re.search(rf"\b{limit}\b", DOC)


@pytest.mark.parametrize("vital", sorted(_VITALS))
def test_vitals_table_row_states_the_codec_bounds(vital: str) -> None:
    _, low, high = _VITALS[vital]
    rows = [line for line in DOC.splitlines() if line.startswith(f"| `{vital}`")]
    assert len(rows) == 1, f"one table row for {vital}"
    numbers = re.findall(r"-?\d+(?:\.\d+)?", rows[0])
    assert str(low) in numbers
    assert str(high) in numbers


# Every line of PROTOCOL.md with a concrete topic followed by a JSON object is an example
# payload (worked session, mosquitto commands): each must decode as the topic says.
_EXAMPLE = re.compile(r"(ec/v1/t/[A-Za-z0-9_-]+/(?:alert|health|status|ack|cmd))\b.*?(\{.*\})")
EXAMPLES = [m.groups() for line in DOC.splitlines() if (m := _EXAMPLE.search(line))]


def test_doc_has_examples() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize(("topic_name", "payload"), EXAMPLES)
def test_doc_example_payload_is_valid(topic_name: str, payload: str) -> None:
    decode_message(topic_name, payload.encode())
