"""Config: defaults, GATEWAY__SECTION__KEY overrides, errors that name the key, secrets."""

from __future__ import annotations

import re
import traceback
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from gateway.config import (
    GatewayConfig,
    WebhookConfig,
    apply_env,
    load_config,
    parse_config,
)
from gateway.errors import ConfigError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PASSWORD = "hunter2-broker-password"
EXAMPLE = Path(__file__).parents[3] / "configs" / "gateway.example.toml"


def config_error(doc: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(doc, environ or {})
    return str(caught.value)


# --- defaults and the shipped example --------------------------------------------------------


def test_empty_document_gives_defaults_with_webhook_off() -> None:
    cfg = parse_config({}, {})

    assert cfg == GatewayConfig()
    assert cfg.mqtt.port == 1882  # the broker's gateway listener
    assert cfg.webhook.enabled is False
    assert cfg.store.synchronous == "FULL"


def test_example_config_is_valid_once_the_secret_comes_from_the_environment() -> None:
    environ = {"GATEWAY__WEBHOOK__SECRET": SECRET, "CAM_001_PASSWORD": "camera-secret-1"}
    cfg = load_config(EXAMPLE, environ)

    assert cfg.webhook.enabled is True
    assert cfg.webhook.secret.get_secret_value() == SECRET
    assert [t.token_env for t in cfg.api.tokens] == ["GATEWAY_CC_TOKEN"]
    camera = cfg.cameras.facilities[0].cameras[0]
    assert camera.password is not None
    assert camera.password.get_secret_value() == "camera-secret-1"
    assert "camera-secret-1" not in repr(cfg)


def test_example_config_names_a_missing_camera_secret() -> None:
    with pytest.raises(ConfigError, match=r"cameras\.facilities\.0\.cameras\.0\.password_env"):
        load_config(EXAMPLE, {"GATEWAY__WEBHOOK__SECRET": SECRET})


def test_example_config_without_the_secret_names_the_webhook_section() -> None:
    with pytest.raises(ConfigError, match=r"^webhook: .*whsec_"):
        load_config(EXAMPLE, {})


def test_config_is_frozen() -> None:
    cfg = parse_config({}, {})

    with pytest.raises(ValidationError):
        cfg.mqtt.port = 1  # type: ignore[misc]


# --- environment overrides --------------------------------------------------------------------


def test_env_overrides_file_value_and_parses_numbers() -> None:
    cfg = parse_config({"mqtt": {"port": 1883}}, {"GATEWAY__MQTT__PORT": "1884"})

    assert cfg.mqtt.port == 1884


def test_env_keeps_non_json_values_as_strings() -> None:
    cfg = parse_config({}, {"GATEWAY__MQTT__HOST": "broker.example.org"})

    assert cfg.mqtt.host == "broker.example.org"


def test_env_parses_booleans_and_json_lists() -> None:
    environ = {
        "GATEWAY__WEBHOOK__ENABLED": "true",
        "GATEWAY__WEBHOOK__SECRET": SECRET,
        "GATEWAY__API__TOKENS": '[{"name": "cc", "token_env": "CC_TOKEN", "region": ["D"]}]',
    }

    cfg = parse_config({}, environ)

    assert cfg.webhook.enabled is True
    assert cfg.api.tokens[0].name == "cc"
    assert cfg.api.tokens[0].region == ["D"]


def test_env_section_and_key_are_case_insensitive() -> None:
    cfg = parse_config({}, {"GATEWAY__Supervision__Reporting_Time_S": "600"})

    assert cfg.supervision.reporting_time_s == 600.0


def test_other_environment_variables_are_ignored() -> None:
    cfg = parse_config({}, {"PATH": "/usr/bin", "GATEWAY_MQTT_PORT": "1", "MQTT__PORT": "2"})

    assert cfg.mqtt.port == 1882


def test_apply_env_does_not_modify_the_file_document() -> None:
    doc: dict[str, Any] = {"mqtt": {"port": 1883}}

    merged = apply_env(doc, {"GATEWAY__MQTT__PORT": "2000"})

    assert merged == {"mqtt": {"port": "2000"}}  # pydantic converts it to the field's type
    assert doc == {"mqtt": {"port": 1883}}


@pytest.mark.parametrize("name", ["GATEWAY__MQTT", "GATEWAY__MQTT__", "GATEWAY____PORT"])
def test_malformed_env_name_is_an_error_naming_the_variable(name: str) -> None:
    message = config_error({}, {name: "1"})

    assert message.startswith(f"{name}: ")


def test_env_key_below_a_scalar_is_an_error_naming_the_variable() -> None:
    message = config_error({"site": {"name": "x"}}, {"GATEWAY__SITE__NAME__FIRST": "y"})

    assert message.startswith("GATEWAY__SITE__NAME__FIRST: ")
    assert "'name' is not a section" in message


def test_numeric_looking_secret_from_env_stays_a_string() -> None:
    cfg = parse_config({}, {"GATEWAY__MQTT__PASSWORD": "12345678"})

    assert cfg.mqtt.password.get_secret_value() == "12345678"


# --- errors name the key ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"mqtt": {"hots": "x"}}, "mqtt.hots"),
        ({"mqtt2": {}}, "mqtt2"),
        ({"webhook": {"enabled": False, "retry_for": 1}}, "webhook.retry_for"),
        ({"api": {"tokens": [{"name": "a", "token_env": "A", "scope": []}]}}, "api.tokens.0.scope"),
    ],
)
def test_unknown_key_is_an_error_naming_it(doc: dict[str, Any], key: str) -> None:
    message = config_error(doc)

    assert message.startswith(f"{key}: ")
    assert "Extra inputs are not permitted" in message


def test_unknown_key_from_env_is_an_error_naming_it() -> None:
    message = config_error({}, {"GATEWAY__INTAKE__BATCH": "10"})

    assert message.startswith("intake.batch: ")


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"mqtt": {"port": 0}}, "mqtt.port"),
        ({"mqtt": {"port": 65536}}, "mqtt.port"),
        ({"mqtt": {"port": "eighty"}}, "mqtt.port"),
        ({"site": {"language": "fr"}}, "site.language"),
        ({"store": {"synchronous": "OFF"}}, "store.synchronous"),
        ({"intake": {"telemetry_queue_max": 9}}, "intake.telemetry_queue_max"),
        ({"webhook": {"enabled": False, "timeout_s": 0}}, "webhook.timeout_s"),
        ({"webhook": {"enabled": False, "url": "ftp://x"}}, "webhook.url"),
        ({"supervision": {"reporting_time_s": 5}}, "supervision.reporting_time_s"),
        ({"rules": {"spo2_low_pct": 101}}, "rules.spo2_low_pct"),
        ({"mqtt": {"share_group": "a/b"}}, "mqtt.share_group"),
    ],
)
def test_bad_value_is_an_error_naming_the_key(doc: dict[str, Any], key: str) -> None:
    assert config_error(doc).startswith(f"{key}: ")


def test_bad_value_from_env_names_the_key() -> None:
    message = config_error({}, {"GATEWAY__HTTP__PORT": "-1"})

    assert message.startswith("http.port: ")


def test_every_bad_key_is_named_in_one_error() -> None:
    message = config_error({"mqtt": {"port": 0, "keepalive_s": 1}, "http": {"port": 70000}})

    for key in ("mqtt.port", "mqtt.keepalive_s", "http.port"):
        assert f"{key}: " in message


def test_the_gateways_link_speaks_3_1_1_unless_told_otherwise() -> None:
    assert GatewayConfig().mqtt.protocol == "3.1.1"
    shared = parse_config({"mqtt": {"share_group": "gw"}}, {})
    assert (shared.mqtt.share_group, shared.mqtt.protocol) == ("gw", "3.1.1")


def test_enabled_webhook_needs_a_whsec_secret() -> None:
    message = config_error({"webhook": {"enabled": True}})

    assert message.startswith("webhook: ")
    assert "whsec_" in message


def test_disabled_webhook_needs_no_secret() -> None:
    assert WebhookConfig(enabled=False).secret.get_secret_value() == ""


def test_flap_reuse_threshold_must_be_below_suppress_threshold() -> None:
    message = config_error({"supervision": {"flap_suppress_at": 3.0, "flap_reuse_at": 3.0}})

    assert "flap_reuse_at" in message


# --- files ------------------------------------------------------------------------------------


def test_load_config_reads_toml_and_applies_env(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text('[mqtt]\nhost = "10.0.0.5"\nport = 1883\n', encoding="utf-8")

    cfg = load_config(path, {"GATEWAY__MQTT__PORT": "8883"})

    assert (cfg.mqtt.host, cfg.mqtt.port) == ("10.0.0.5", 8883)


def test_missing_file_is_a_config_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"

    with pytest.raises(ConfigError, match=r"absent\.toml: cannot read"):
        load_config(path, {})


def test_invalid_toml_is_a_config_error_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[mqtt\nport = 1\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"broken\.toml: not valid TOML"):
        load_config(path, {})


def test_unknown_key_in_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "gw.toml"
    path.write_text("[http]\nprot = 8080\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"^http\.prot: "):
        load_config(path, {})


# --- secrets ----------------------------------------------------------------------------------


def with_secrets() -> GatewayConfig:
    return parse_config(
        {},
        {
            "GATEWAY__MQTT__PASSWORD": PASSWORD,
            "GATEWAY__WEBHOOK__ENABLED": "true",
            "GATEWAY__WEBHOOK__SECRET": SECRET,
            "GATEWAY__UPSTREAM__PASSWORD": PASSWORD + "-up",
        },
    )


def test_secrets_are_readable_where_needed() -> None:
    cfg = with_secrets()

    assert cfg.mqtt.password.get_secret_value() == PASSWORD
    assert cfg.webhook.secret.get_secret_value() == SECRET


@pytest.mark.parametrize("render", [repr, str])
def test_secrets_never_appear_in_repr_or_str(render: Any) -> None:
    cfg = with_secrets()

    for text in (render(cfg), render(cfg.mqtt), render(cfg.webhook), render(cfg.upstream)):
        assert PASSWORD not in text
        assert SECRET not in text
        assert SECRET.removeprefix("whsec_") not in text


def test_secrets_never_appear_in_json_dump() -> None:
    text = with_secrets().model_dump_json()

    assert PASSWORD not in text
    assert SECRET not in text


def test_config_error_message_does_not_contain_the_secret() -> None:
    wrong = "not-a-whsec-but-still-secret"

    message = config_error({}, {"GATEWAY__WEBHOOK__ENABLED": "true",
                                "GATEWAY__WEBHOOK__SECRET": wrong})  # fmt: skip

    assert message.startswith("webhook: ")
    assert wrong not in message


def test_config_error_traceback_does_not_contain_the_secret() -> None:
    wrong = "s3cr3t-pw"  # short, so pydantic does not elide it
    with pytest.raises(ConfigError) as caught:
        parse_config({}, {"GATEWAY__WEBHOOK__ENABLED": "true", "GATEWAY__WEBHOOK__SECRET": wrong})

    rendered = "".join(traceback.format_exception(caught.value))

    assert wrong not in rendered


# --- TLS and the district ---------------------------------------------------------------------


def test_a_tls_table_turns_tls_on_for_a_broker_link() -> None:
    cfg = parse_config(
        {
            "mqtt": {"tls": {"ca_file": "/site/tls/ca.crt"}},
            "upstream": {"tls": {}},
            "webhook": {"enabled": False},
        },
        {"GATEWAY__WEBHOOK__TLS__MIN_VERSION": "1.3"},
    )

    assert cfg.mqtt.tls is not None
    assert str(cfg.mqtt.tls.ca_file) == "/site/tls/ca.crt"
    assert cfg.upstream.tls is not None
    assert cfg.upstream.tls.ca_file is None  # the system's trust store
    assert cfg.webhook.tls.min_version == "1.3"
    assert parse_config({}, {}).mqtt.tls is None


@pytest.mark.parametrize(
    ("doc", "key"),
    [
        ({"mqtt": {"tls": {"min_version": "1.1"}}}, "mqtt.tls.min_version"),
        ({"mqtt": {"tls": {"cafile": "x"}}}, "mqtt.tls.cafile"),
        ({"mqtt": {"bridged": "maybe"}}, "mqtt.bridged"),
        ({"site": {"district": ""}}, "site.district"),
    ],
)
def test_bad_tls_and_district_values_name_the_key(doc: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(key)):
        parse_config(doc, {})
