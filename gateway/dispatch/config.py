"""Configuration of dispatch (the ``dispatch`` section): which presses run the responder
call sequence, which are service requests, and the sequence's timing."""

from __future__ import annotations

from pydantic import Field, model_validator

from gateway.config_base import StrictModel
from gateway.core.dispatch import Policy

#: Kinds a terminal can press for help (``cancel`` and ``test`` are not requests).
HELP_KINDS = ("emergency", "medical", "nursing", "mobility", "meal", "errand")


class DispatchConfig(StrictModel):
    """The ``dispatch`` section."""

    enabled: bool = Field(True, description="Run the responder call sequence for alarms.")
    alarm_kinds: list[str] = Field(
        default_factory=lambda: ["emergency", "medical"],
        description="Kinds that call the elder's responders in order (emergencies).",
    )
    service_kinds: list[str] = Field(
        default_factory=lambda: ["meal", "errand", "nursing", "mobility"],
        description="Kinds handled as service requests: scheduled, assigned, completed.",
    )
    answer_timeout_s: float = Field(
        30.0, ge=5, le=900, description="How long each responder has to accept or decline."
    )
    rounds: int = Field(
        2, ge=1, le=5, description="Times the whole contact list is tried before escalating."
    )
    sweep_interval_s: float = Field(
        0.5, ge=0.05, le=30, description="How often new alarms and expired calls are looked at."
    )
    start_window_s: float = Field(
        3600.0,
        ge=10,
        le=7 * 86_400,
        description="Alarms older than this when first seen (e.g. after an upgrade) are"
        " left to operators instead of calling responders.",
    )

    @model_validator(mode="after")
    def _kinds_known_and_disjoint(self) -> DispatchConfig:
        for name in ("alarm_kinds", "service_kinds"):
            unknown = sorted(set(getattr(self, name)) - set(HELP_KINDS))
            if unknown:
                raise ValueError(f"{name}: unknown kinds {', '.join(unknown)}")
        both = sorted(set(self.alarm_kinds) & set(self.service_kinds))
        if both:
            raise ValueError(f"a kind cannot be an alarm and a service request: {', '.join(both)}")
        return self

    def policy(self) -> Policy:
        """The sequence's timing as a plain value for :mod:`gateway.core.dispatch`."""
        return Policy(self.answer_timeout_s, self.rounds)
