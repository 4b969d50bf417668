"""The shipped example config validates as documented: every section on with its
secrets in the environment; any section switched off without them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.gateway_process import command

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[3] / "configs" / "gateway.example.toml"
SECRETS = {
    "GATEWAY__WEBHOOK__SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "GATEWAY_CC_TOKEN": "cc-token-abcdefghijklmnop",
    "CAM_001_PASSWORD": "camera-secret",
}


@pytest.fixture
def registry(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "terminals.csv"
    path.write_text(
        "terminal_id,elder_name,district,town,village\nT1,王,示范区,城关街道,幸福社区1\n"
    )
    return {"GATEWAY__REGISTRY__PATH": str(path)}


def test_as_shipped_with_its_secrets(registry: dict[str, str]) -> None:
    result = command("check-config", str(EXAMPLE), env={**registry, **SECRETS})

    assert result.returncode == 0, result.stderr
    assert "sinks: webhook" in result.stdout


@pytest.mark.parametrize(
    ("section", "secret", "key"),
    [
        ("webhook", "GATEWAY__WEBHOOK__SECRET", "webhook"),
        ("cameras", "CAM_001_PASSWORD", "cameras.facilities.0.cameras.0.password_env"),
    ],
)
def test_an_enabled_section_demands_its_secret(
    registry: dict[str, str], section: str, secret: str, key: str
) -> None:
    env = {**registry, **{k: v for k, v in SECRETS.items() if k != secret}}

    result = command("check-config", str(EXAMPLE), env=env)

    assert result.returncode == 2
    assert key in result.stderr
    assert secret.startswith("GATEWAY__") or secret in result.stderr


@pytest.mark.parametrize("section", ["webhook", "cameras", "console", "upstream"])
def test_a_disabled_section_demands_no_secret(registry: dict[str, str], section: str) -> None:
    needed = {"webhook": "GATEWAY__WEBHOOK__SECRET", "cameras": "CAM_001_PASSWORD"}
    env = {k: v for k, v in SECRETS.items() if k != needed.get(section)}
    env[f"GATEWAY__{section.upper()}__ENABLED"] = "false"

    result = command("check-config", str(EXAMPLE), env={**registry, **env})

    assert result.returncode == 0, result.stderr


def test_upstream_enabled_validates_too(registry: dict[str, str]) -> None:
    env = {**registry, **SECRETS, "GATEWAY__UPSTREAM__ENABLED": "true"}

    result = command("check-config", str(EXAMPLE), env=env)

    assert result.returncode == 0, result.stderr
    assert "upstream" in result.stdout
