"""Base for every config section: unknown keys are errors naming the key."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Config section: frozen, ``extra="forbid"``, validated once at start."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, hide_input_in_errors=True
    )
