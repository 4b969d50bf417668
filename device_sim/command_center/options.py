"""The command center's settings, validated once; errors name the option."""

from __future__ import annotations

import binascii
from dataclasses import dataclass, field

from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from device_sim.command_center.modes import ModeSetting
from device_sim.command_center.responder import ResponderOptions
from device_sim.command_center.telephony import TelephonyOptions


def _require(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{name}: {message}")


@dataclass(frozen=True, slots=True)
class CommandCenterOptions:
    """Where to listen, how to verify, how to misbehave and how to respond."""

    secret: str = field(repr=False)
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port (see CommandCenter.url)
    gateway_api: str = ""  # base URL of the gateway's API; needed to accept/resolve
    gateway_token: str = field(default="", repr=False)
    responder: ResponderOptions = field(default_factory=ResponderOptions)
    telephony: TelephonyOptions = field(default_factory=TelephonyOptions)  # plays responders
    fail_rate: float = 0.0  # share of webhooks answered with fail_status at random
    fail_status: int = 503
    initial_mode: ModeSetting = field(default_factory=ModeSetting)
    max_events: int = 1_000_000  # events kept in memory (all are counted)
    workers: int = 4  # concurrent accept/resolve calls
    request_timeout_s: float = 10.0  # per call to the gateway API
    seed: int | None = None

    def __post_init__(self) -> None:
        try:
            Webhook(self.secret)
        except (binascii.Error, ValueError, RuntimeError, EmptyWebhookSecretError) as exc:
            raise ValueError(
                f"secret: not a usable webhook secret ({type(exc).__name__})"
            ) from None
        _require(0 <= self.port < 65536, "port", "must be in 0..65535")
        _require(0 <= self.fail_rate <= 1, "fail_rate", "must be in [0, 1]")
        _require(500 <= self.fail_status <= 599, "fail_status", "must be a 5xx status")
        _require(self.max_events >= 0, "max_events", "must be >= 0")
        _require(self.workers >= 1, "workers", "must be >= 1")
        _require(self.request_timeout_s > 0, "request_timeout_s", "must be > 0")
        responder = self.responder
        _require(responder.accept_after_s >= 0, "accept_after_s", "must be >= 0 (0 = off)")
        _require(responder.resolve_after_s >= 0, "resolve_after_s", "must be >= 0 (0 = off)")
        _require(0 < len(responder.name) <= 64, "responder", "must be 1..64 characters")
        answering = responder.accept_after_s > 0 or responder.resolve_after_s > 0
        _require(
            not answering or bool(self.gateway_api and self.gateway_token),
            "gateway_api",
            "accepting or resolving needs --gateway-api and --gateway-token",
        )
        _require(
            not self.telephony.enabled or bool(self.gateway_api),
            "gateway_api",
            "answering responders' calls needs --gateway-api",
        )
        _require(
            not self.gateway_api or self.gateway_api.startswith(("http://", "https://")),
            "gateway_api",
            "must be an http(s) URL",
        )
