"""Topic names: round trips, and fuzzed names that either parse exactly or raise bad_topic."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_protocol.errors import ProtocolError, Reason
from firmware_protocol.topics import Channel, parse_topic, subscription, topic
from tests.unit.protocol import strategies as s

FAST = settings(max_examples=300, deadline=None)
TERMINAL_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Pieces that look like real levels, so that fuzzing gets past the prefix check.
_LEVELS = st.sampled_from(["ec", "v1", "t", "T0001", "alert", "ack", "", "+", "#", "T 1"])
_NAMES = st.text(max_size=100) | st.lists(_LEVELS | st.text(max_size=8), max_size=7).map("/".join)


@FAST
@given(s.terminal_ids, st.sampled_from(Channel))
def test_topic_round_trip(terminal_id: str, channel: Channel) -> None:
    assert parse_topic(topic(terminal_id, channel)) == (terminal_id, channel)


@FAST
@given(_NAMES)
def test_any_name_parses_exactly_or_is_bad_topic(name: str) -> None:
    try:
        terminal_id, channel = parse_topic(name)
    except ProtocolError as exc:
        reason = exc.reason
    else:
        assert TERMINAL_ID.fullmatch(terminal_id)
        assert topic(terminal_id, channel) == name
        return
    assert reason is Reason.BAD_TOPIC


@FAST
@given(st.text(max_size=70).filter(lambda t: not TERMINAL_ID.fullmatch(t)))
def test_invalid_terminal_id_cannot_make_a_topic(terminal_id: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        topic(terminal_id, Channel.ALERT)
    assert caught.value.reason is Reason.BAD_TOPIC


@pytest.mark.parametrize("terminal_id", ["T0001\n", "T0001\r\n", "\nT0001"])
def test_newline_is_not_part_of_a_terminal_id(terminal_id: str) -> None:
    with pytest.raises(ProtocolError):
        parse_topic(f"ec/v1/t/{terminal_id}/alert")


def test_subscriptions() -> None:
    assert subscription(Channel.ALERT) == "ec/v1/t/+/alert"
    assert subscription(Channel.STATUS, "gw") == "$share/gw/ec/v1/t/+/status"
