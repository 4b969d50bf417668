"""The gateway's TLS contexts and how a refused certificate is explained and counted."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiomqtt
import pytest

from gateway.config import TlsClientConfig
from gateway.errors import ConfigError
from gateway.tls import certificate_problem, client_context, count_failure, optional_context
from tests.unit.gateway.helpers import sample


def test_contexts_verify_and_refuse_old_tls() -> None:
    context = client_context(TlsClientConfig(), "mqtt.tls")

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert client_context(TlsClientConfig(min_version="1.3"), "k").minimum_version == (
        ssl.TLSVersion.TLSv1_3
    )
    assert optional_context(None, "upstream.tls") is None


def test_an_unreadable_ca_file_names_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "ca.crt"
    bad.write_text("not a certificate")

    with pytest.raises(ConfigError, match=r"^upstream\.tls\.ca_file: cannot load"):
        client_context(TlsClientConfig(ca_file=bad), "upstream.tls")
    with pytest.raises(ConfigError, match=r"mqtt\.tls\.ca_file"):
        client_context(TlsClientConfig(ca_file=tmp_path / "absent.crt"), "mqtt.tls")


def _wrapped_like_aiomqtt() -> aiomqtt.MqttError:
    """aiomqtt raises ``MqttError(str(exc)) from None`` from inside the ``except``."""
    try:
        try:
            error = ssl.SSLCertVerificationError(1, "certificate verify failed")
            error.verify_message = "certificate has expired"
            raise error
        except OSError as exc:
            raise aiomqtt.MqttError(str(exc)) from None
    except aiomqtt.MqttError as outer:
        return outer


def test_a_refused_certificate_is_found_behind_the_wrapper_and_counted() -> None:
    before = sample("gateway_tls_failures_total", link="terminals")

    problem = count_failure("terminals", _wrapped_like_aiomqtt())

    assert problem == "server certificate refused: certificate has expired"
    assert sample("gateway_tls_failures_total", link="terminals") == before + 1


def test_other_failures_are_not_certificate_problems() -> None:
    assert certificate_problem(aiomqtt.MqttError("[Errno 111] Connection refused")) is None
    assert count_failure("webhook", ConnectionResetError()) is None
