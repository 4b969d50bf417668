"""The dispatch section: kinds known and disjoint, bounds, errors naming the key."""

from __future__ import annotations

import pytest

from gateway.config import parse_config
from gateway.errors import ConfigError


def test_defaults() -> None:
    cfg = parse_config({}, {}).dispatch
    assert cfg.alarm_kinds == ["emergency", "medical"]
    assert cfg.service_kinds == ["meal", "errand", "nursing", "mobility"]
    assert (cfg.policy().answer_timeout_s, cfg.policy().rounds) == (30.0, 2)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"answer_timeout_s": 1}, "dispatch.answer_timeout_s"),
        ({"rounds": 0}, "dispatch.rounds"),
        ({"alarm_kinds": ["fire"]}, "alarm_kinds: unknown kinds fire"),
        ({"service_kinds": ["emergency"]}, "alarm and a service request: emergency"),
        ({"answer_timeout": 30}, "dispatch.answer_timeout"),
    ],
)
def test_bad_values_name_the_key(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config({"dispatch": section}, {})


def test_the_environment_overrides_a_key() -> None:
    cfg = parse_config({}, {"GATEWAY__DISPATCH__ROUNDS": "3"})
    assert cfg.dispatch.rounds == 3
