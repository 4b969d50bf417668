"""The shipped example config stays valid as the code changes."""

from __future__ import annotations

from pathlib import Path

from gateway.config import load_config

ROOT = Path(__file__).resolve().parents[2]


def test_example_config_is_valid() -> None:
    cfg = load_config(ROOT / "configs" / "gateway.example.toml", {
        "GATEWAY__WEBHOOK__SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    })  # fmt: skip
    assert cfg.webhook.enabled
    assert cfg.api.tokens[0].token_env == "GATEWAY_CC_TOKEN"
