"""Strict, typed configuration: a TOML file plus ``GATEWAY__SECTION__KEY`` overrides.

Validated once at start. An unknown key, a wrong type or an out-of-range value is a
:class:`ConfigError` whose message names the key (``webhook.timeout_s: …``). Secrets are
``SecretStr``: they never appear in logs or reprs; put them in the environment.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, StringConstraints, ValidationError, model_validator

from gateway.cameras.config import CamerasConfig
from gateway.config_base import StrictModel
from gateway.console.config import ConsoleConfig
from gateway.dispatch.config import DispatchConfig
from gateway.errors import ConfigError
from gateway.operate.signals import TARGET_PATTERN

ENV_PREFIX = "GATEWAY__"


class SiteConfig(StrictModel):
    name: str = Field("Demo district", description="Shown in the console and in events.")
    district: str | None = Field(
        None,
        min_length=1,
        description="Top of every region path. Set: registry rows must name it (empty cells "
        "are filled in); unset: taken from the registry as it is.",
    )
    language: Literal["zh", "en"] = Field("zh", description="Console default language.")


class TlsClientConfig(StrictModel):
    """How the gateway checks a server it connects to. For MQTT links the table's
    presence turns TLS on; for the webhook an ``https://`` URL does."""

    ca_file: Path | None = Field(
        None, description="PEM CA certificate(s) to trust (the site CA); unset: the system's."
    )
    min_version: Literal["1.2", "1.3"] = Field("1.2", description="Lowest TLS version accepted.")


class MqttConfig(StrictModel):
    host: str = Field("127.0.0.1", description="The gateway's broker (single or district).")
    port: int = Field(1882, ge=1, le=65535, description="Its gateway listener.")
    username: str = Field("gateway", min_length=1, description="The gateway's broker account.")
    password: SecretStr = Field(SecretStr(""), description="Set GATEWAY__MQTT__PASSWORD.")
    client_id: str = Field("eldercare-gateway-1", min_length=1, max_length=64)
    protocol: Literal["3.1.1", "5"] = Field(
        "3.1.1",
        description="MQTT protocol version of the gateway's own sessions (with 5 the broker"
        " keeps each session 60 s across a gateway restart).",
    )
    share_group: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Shared-subscription group ($share/…; Mosquitto serves it to 3.1.1 too).",
    )
    keepalive_s: int = Field(30, ge=5, le=3600)
    max_inflight: int = Field(1000, ge=1, le=65535, description="QoS 1 publishes in flight.")
    bridged: bool = Field(
        False,
        description="The broker is a district broker bridging town brokers: terminal topics "
        "carry the zone (ec/v1/z/{zone}/t/{id}/…) and every terminal needs a registry zone.",
    )
    tls: TlsClientConfig | None = Field(None, description="Present: connect over TLS.")


class RegistryConfig(StrictModel):
    path: Path = Field(Path("var/site/terminals.csv"), description="Terminal registry CSV.")


class StoreConfig(StrictModel):
    path: Path = Field(Path("var/gateway.db"), description="SQLite database file.")
    synchronous: Literal["FULL", "NORMAL"] = Field(
        "FULL", description="FULL survives power loss; NORMAL only process crashes."
    )
    health_raw_days: float = Field(
        2.0,
        ge=1,
        le=3650,
        description="Raw health reports are kept this long (the console"
        " charts the last 24 h), then folded into a daily summary per terminal.",
    )
    health_daily_days: int = Field(
        730, ge=1, le=36500, description="Daily health summaries are kept this long."
    )
    events_days: float = Field(
        30.0,
        ge=1,
        le=3650,
        description="Forwarded events (other than health reports, which"
        " are dropped once delivered) are kept this long.",
    )
    retention_interval_s: float = Field(
        60.0, gt=0, le=86_400, description="How often old rows are folded or dropped."
    )


class IntakeConfig(StrictModel):
    batch_max: int = Field(512, ge=1, le=10_000, description="Messages per transaction.")
    telemetry_queue_max: int = Field(
        200_000,
        ge=10,
        le=5_000_000,
        description="Health/status held in memory (~0.6 kB each); oldest shed.",
    )
    alert_queue_max: int = Field(
        200_000, ge=100, le=10_000_000, description="Alerts held in memory before shedding."
    )
    ack_queue_max: int = Field(50_000, ge=10, le=1_000_000)


class WebhookConfig(StrictModel):
    enabled: bool = Field(True, description="Forward events as Standard Webhooks.")
    url: str = Field("http://127.0.0.1:8900/webhook", pattern=r"^https?://")
    tls: TlsClientConfig = Field(
        default_factory=TlsClientConfig, description="Certificate checks for https URLs."
    )
    secret: SecretStr = Field(SecretStr(""), description="whsec_… (GATEWAY__WEBHOOK__SECRET).")
    timeout_s: float = Field(10.0, gt=0, le=300)
    format: Literal["batch", "event"] = Field(
        "batch", description="batch: many events per signed request; event: one per request."
    )
    batch_max: int = Field(200, ge=1, le=5000, description="Events per request (batch format).")
    linger_s: float = Field(
        0.2, ge=0, le=10, description="Telemetry waits up to this long to fill a batch."
    )
    concurrency: int = Field(8, ge=1, le=512, description="Requests in flight.")
    alarm_concurrency: int = Field(
        4, ge=1, le=64, description="Further requests in flight that carry only alarms."
    )
    retry_for_h: float = Field(72.0, ge=0.01, le=24 * 30, description="Then dead-letter.")
    own_process: bool = Field(
        False,
        description="Forward from a second process (a second core: the gateway's own loop"
        " then only takes messages in). For districts; see README, Sizing.",
    )
    backoff_base_s: float = Field(1.0, gt=0, le=3600)
    backoff_cap_s: float = Field(300.0, gt=0, le=86_400)

    @model_validator(mode="after")
    def _secret_when_enabled(self) -> WebhookConfig:
        if self.backoff_base_s > self.backoff_cap_s:
            raise ValueError("backoff_base_s must not exceed backoff_cap_s")
        secret = self.secret.get_secret_value()
        if self.enabled and not secret.startswith("whsec_"):
            raise ValueError("secret must be set and start with 'whsec_' when enabled")
        return self


class UpstreamConfig(StrictModel):
    enabled: bool = Field(False, description="Also forward events to a district broker.")
    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr = SecretStr("")
    client_id: str = Field("eldercare-gateway-up-1", min_length=1, max_length=64)
    tls: TlsClientConfig | None = Field(None, description="Present: connect over TLS.")
    topic_prefix: str = Field("ec/v1/district", description="Events go to {prefix}/{type}.")
    timeout_s: float = Field(10.0, gt=0, le=300)
    batch_max: int = Field(200, ge=1, le=5000, description="Publishes in flight per batch.")
    concurrency: int = Field(4, ge=1, le=64, description="Batches in flight.")


class HttpConfig(StrictModel):
    host: str = Field("127.0.0.1", description="Console, API and /metrics listen here.")
    port: int = Field(8080, ge=0, le=65535, description="0 picks a free port.")
    health_backlog_age_s: float = Field(
        900.0, gt=0, le=7 * 86_400,
        description="/healthz is degraded while an undelivered event is older than this.",
    )  # fmt: skip


ReloadTarget = Annotated[str, StringConstraints(pattern=TARGET_PATTERN)]


class ReloadConfig(StrictModel):
    """``python -m gateway reload``: put terminals added, moved or removed in force."""

    pid_file: Path | None = Field(
        None, description="The running gateway writes its PID here; reload sends it SIGHUP."
    )
    credentials: Path | None = Field(
        None, description="terminal_id,password CSV; registered terminals become broker accounts."
    )
    broker_dir: Path | None = Field(
        None,
        description="The provisioned site directory (topology.json, brokers/…): its"
        " terminal brokers' accounts are rewritten on reload.",
    )
    brokers: list[ReloadTarget] = Field(
        default_factory=list, max_length=256,
        description="Brokers told to re-read them: 'pidfile:PATH' or 'systemd:UNIT'.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _accounts_need_both(self) -> ReloadConfig:
        if (self.credentials is None) != (self.broker_dir is None):
            raise ValueError("credentials and broker_dir go together")
        if self.brokers and self.broker_dir is None:
            raise ValueError("brokers to reload need broker_dir (and credentials)")
        return self


class ApiToken(StrictModel):
    name: str = Field(min_length=1, description="Who uses it; shown in the audit log.")
    token_env: str = Field(min_length=1, description="Environment variable holding the token.")
    region: list[str] = Field(default_factory=list, description="Scope; empty = whole site.")


class ApiConfig(StrictModel):
    tokens: list[ApiToken] = Field(default_factory=list)


class SupervisionConfig(StrictModel):
    reporting_time_s: float = Field(180.0, ge=10, le=86_400, description="Silence → offline.")
    will_grace_s: float = Field(30.0, ge=0, le=3600, description="Last will → offline after.")
    sweep_interval_s: float = Field(5.0, gt=0, le=600)
    selftest_interval_s: float = Field(86_400.0, ge=60, le=30 * 86_400)
    selftest_grace_s: float = Field(3600.0, ge=0, le=7 * 86_400)
    flap_penalty: float = Field(1.0, gt=0, description="Added per offline transition.")
    flap_suppress_at: float = Field(3.0, gt=0, description="Penalty that mutes a flapper.")
    flap_reuse_at: float = Field(1.0, ge=0, description="Penalty under which it speaks again.")
    flap_half_life_s: float = Field(900.0, gt=0, le=86_400)

    @model_validator(mode="after")
    def _reuse_below_suppress(self) -> SupervisionConfig:
        if self.flap_reuse_at >= self.flap_suppress_at:
            raise ValueError("flap_reuse_at must be below flap_suppress_at")
        return self


class RulesConfig(StrictModel):
    """Vitals that raise a ``medical`` alert. ``None`` disables a bound."""

    heart_rate_low_bpm: int | None = Field(40, ge=0, le=300)
    heart_rate_high_bpm: int | None = Field(140, ge=0, le=300)
    spo2_low_pct: float | None = Field(90.0, ge=0, le=100)
    systolic_high_mmhg: int | None = Field(180, ge=30, le=300)
    systolic_low_mmhg: int | None = Field(85, ge=30, le=300)
    diastolic_high_mmhg: int | None = Field(120, ge=10, le=250)
    body_temp_high_c: float | None = Field(39.5, ge=20, le=45)
    body_temp_low_c: float | None = Field(35.0, ge=20, le=45)
    glucose_low_mmol_l: float | None = Field(3.0, ge=0, le=60)
    glucose_high_mmol_l: float | None = Field(16.7, ge=0, le=60)
    fall_detected: bool = Field(True, description="A detected fall raises an alert.")


class GatewayConfig(StrictModel):
    site: SiteConfig = SiteConfig()
    mqtt: MqttConfig = MqttConfig()
    registry: RegistryConfig = RegistryConfig()
    store: StoreConfig = StoreConfig()
    intake: IntakeConfig = IntakeConfig()
    webhook: WebhookConfig = Field(default_factory=lambda: WebhookConfig(enabled=False))
    upstream: UpstreamConfig = UpstreamConfig()
    http: HttpConfig = HttpConfig()
    reload: ReloadConfig = ReloadConfig()
    api: ApiConfig = ApiConfig()
    supervision: SupervisionConfig = SupervisionConfig()
    rules: RulesConfig = RulesConfig()
    cameras: CamerasConfig = Field(default_factory=lambda: CamerasConfig(enabled=False))
    console: ConsoleConfig = ConsoleConfig()
    dispatch: DispatchConfig = DispatchConfig()


def _parse_env_value(raw: str) -> Any:
    """Lists and tables as JSON; everything else as the raw string, which pydantic
    converts to the field's type (so a numeric password stays a string)."""
    if raw.lstrip().startswith(("[", "{")):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


def apply_env(doc: dict[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """Overlay ``GATEWAY__SECTION__KEY=value`` variables onto the file's document."""
    merged: dict[str, Any] = json.loads(json.dumps(doc))  # deep copy of plain TOML data
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX):
            continue
        path = [part.lower() for part in name[len(ENV_PREFIX) :].split("__")]
        if len(path) < 2 or not all(path):
            raise ConfigError(f"{name}: expected GATEWAY__SECTION__KEY")
        node = merged
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"{name}: {part!r} is not a section")
            node = child
        node[path[-1]] = _parse_env_value(environ[name])
    return merged


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(root)"
        lines.append(f"{key}: {item['msg']}")
    return "; ".join(lines)


def _disabled_sections(doc: Mapping[str, Any]) -> frozenset[str]:
    return frozenset(
        name
        for name, section in doc.items()
        if isinstance(section, dict) and str(section.get("enabled", "")).lower() == "false"
    )


def parse_config(doc: Mapping[str, Any], environ: Mapping[str, str]) -> GatewayConfig:
    """Validate a config document with environment overrides applied."""
    merged = apply_env(dict(doc), environ)
    # The context carries the environment to secrets resolved during validation, and
    # which sections are switched off (whose secrets are then not demanded).
    context = {"environ": environ, "disabled": _disabled_sections(merged)}
    try:
        return GatewayConfig.model_validate(merged, context=context)
    except ValidationError as exc:
        # from None: the validation error's text carries raw input, secrets included.
        raise ConfigError(_describe(exc)) from None


def load_config(path: Path, environ: Mapping[str, str] | None = None) -> GatewayConfig:
    """Read, override and validate ``path``; raise :class:`ConfigError` on any problem."""
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_config(doc, os.environ if environ is None else environ)
