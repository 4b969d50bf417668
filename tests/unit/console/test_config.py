"""The console's config section is strict like every other."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from gateway.console.config import ConsoleConfig


def test_defaults_escalate_to_town_then_district() -> None:
    rules = ConsoleConfig().escalation_rules()
    assert [(r.after_s, r.level, r.name) for r in rules] == [(60, 1, "town"), (120, 2, "district")]


def test_unknown_key_is_named() -> None:
    with pytest.raises(ValidationError, match="cookie_secur"):
        ConsoleConfig.model_validate({"cookie_secur": "always"})


def test_out_of_range_is_rejected() -> None:
    with pytest.raises(ValidationError, match="feed_poll_s"):
        ConsoleConfig(feed_poll_s=0)


def test_inconsistent_escalation_is_rejected() -> None:
    with pytest.raises(ValidationError, match="higher level"):
        ConsoleConfig.model_validate(
            {"escalation": [{"after_s": 10, "level": 2, "name": "a"},
                            {"after_s": 20, "level": 1, "name": "b"}]}
        )  # fmt: skip
