"""Configuration of the operator console (the ``console`` section)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from gateway.config_base import StrictModel
from gateway.core.escalation import EscalationRule, check_rules


class EscalationRuleConfig(StrictModel):
    """Not accepted after ``after_s`` seconds → ``level``, which goes to ``name``."""

    after_s: float = Field(gt=0, le=86_400, description="Age (since received) that escalates.")
    level: int = Field(ge=1, le=9, description="Escalation level reached.")
    name: str = Field(
        min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$", description="Who it goes to."
    )


def _default_rules() -> list[EscalationRuleConfig]:
    return [
        EscalationRuleConfig(after_s=60, level=1, name="town"),
        EscalationRuleConfig(after_s=120, level=2, name="district"),
    ]


class ConsoleConfig(StrictModel):
    """The ``console`` section: accounts, sessions, login limits, live feed, escalation."""

    enabled: bool = Field(True, description="Serve the operator console under /console.")
    admin_username: str = Field(
        "admin", pattern=r"^[\w.@-]{1,64}$", description="First account, created when none exist."
    )
    admin_password_env: str = Field(
        "GATEWAY_CONSOLE_ADMIN_PASSWORD",
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="Environment variable holding the first admin's password.",
    )
    min_password_length: int = Field(10, ge=8, le=128, description="Shortest password accepted.")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto", description="Secure cookie flag; auto = when the request came over https."
    )
    session_ttl_s: float = Field(
        12 * 3600, ge=300, le=30 * 86_400, description="Session lifetime; renewed while in use."
    )
    login_window_s: float = Field(300, ge=10, le=86_400, description="Failed-login window.")
    login_max_failures_per_user: int = Field(
        5, ge=1, le=1000, description="Failures per user name in the window, then 429."
    )
    login_max_failures_per_ip: int = Field(
        20, ge=1, le=10_000, description="Failures per client address in the window, then 429."
    )
    feed_poll_s: float = Field(0.4, ge=0.05, le=5, description="Live feed database poll period.")
    feed_overlap_s: float = Field(
        2.0, ge=0, le=60, description="Re-read window for commits from other processes' clocks."
    )
    feed_max_alerts: int = Field(
        5000, ge=10, le=100_000, description="Open alarms sent when a feed (re)connects."
    )
    escalation_interval_s: float = Field(1.0, ge=0.1, le=60, description="Escalation sweep period.")
    escalation: list[EscalationRuleConfig] = Field(
        default_factory=_default_rules, description="Escalation rules for unaccepted alarms."
    )

    @model_validator(mode="after")
    def _rules_consistent(self) -> ConsoleConfig:
        check_rules(self.escalation_rules())
        return self

    def escalation_rules(self) -> tuple[EscalationRule, ...]:
        """The rules as plain values for :mod:`gateway.core.escalation`."""
        return tuple(EscalationRule(r.after_s, r.level, r.name) for r in self.escalation)
