from __future__ import annotations

import pytest

from device_sim.terminals.malformed import Malformed, malformed_payload, parse_malformed
from firmware_protocol.codec import decode_alert
from firmware_protocol.errors import ProtocolError


@pytest.mark.parametrize("klass", list(Malformed))
def test_each_class_is_rejected_for_its_reason(klass: Malformed) -> None:
    payload = malformed_payload(klass, "t-01", "m1-0001", 1_700_000_000.0)
    with pytest.raises(ProtocolError) as caught:
        decode_alert("t-01", payload)
    assert caught.value.reason is klass.reason


def test_parse_names_the_choices() -> None:
    assert parse_malformed("Wrong-Version") is Malformed.WRONG_VERSION
    with pytest.raises(ValueError, match="not_json"):
        parse_malformed("gibberish")
