"""What a probe is asked and what it reports, and the ``Prober`` seam.

A :class:`ProbeRequest` travels to a worker process as one JSON line and a
:class:`ProbeReport` comes back as one; both are validated on arrival. The password
is revealed only in :meth:`ProbeRequest.to_line`, the bytes written to the worker's
stdin pipe (never argv or the environment, which other local users can read).
"""

from __future__ import annotations

import enum
import json
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from gateway.cameras.analysis import Measures


class ProbeOutcome(enum.StrEnum):
    """How far a probe got with the camera's RTSP server."""

    REACHABLE = "reachable"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    AUTH_FAILED = "auth_failed"
    NOT_FOUND = "not_found"
    ERROR = "error"


class ProbeRequest(BaseModel):
    """Probe one stream: check RTSP, open it, sample frames, measure them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    username: str | None = None
    password: SecretStr | None = None
    open_timeout_seconds: float = Field(gt=0)
    read_timeout_seconds: float = Field(gt=0)
    sample_frames: int = Field(ge=2)
    sample_seconds: float = Field(gt=0)
    analysis_width: int = Field(ge=16)
    snapshot_width: int = Field(ge=16)
    snapshot_quality: int = Field(ge=1, le=100)

    def to_line(self) -> bytes:
        """The request as one JSON line for a worker's stdin, password included."""
        body = self.model_dump(mode="json")
        body["password"] = self.password.get_secret_value() if self.password else None
        return json.dumps(body).encode() + b"\n"


class ProbeReport(BaseModel):
    """What one probe found. ``measures`` is ``None`` when no frame was decoded."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", ser_json_bytes="base64", val_json_bytes="base64"
    )

    outcome: ProbeOutcome
    detail: str = ""
    rtsp_status: int | None = None
    connect_seconds: float | None = None
    first_frame_seconds: float | None = None
    width: int | None = None
    height: int | None = None
    measures: Measures | None = None
    stalled: bool = Field(False, description="Frames stopped coming before the sample was full.")
    snapshot: bytes | None = Field(None, description="JPEG of the last sampled frame.")
    cpu_seconds: float = 0.0

    @classmethod
    def failed(cls, outcome: ProbeOutcome, detail: str) -> ProbeReport:
        """A report for a probe that produced nothing but an outcome."""
        return cls(outcome=outcome, detail=detail)


class ProbeError(Exception):
    """The prober itself failed (a worker died or answered garbage), not the camera."""


class Prober(Protocol):
    """Runs one probe. The caller bounds it with ``asyncio.timeout``; on cancellation
    the prober must leave nothing running (a hung decoder is killed)."""

    async def probe(self, request: ProbeRequest) -> ProbeReport:
        """Probe the stream; raise :class:`ProbeError` if the prober broke."""
        ...
