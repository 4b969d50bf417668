"""A broker that refuses the gateway's password: one clear log line, a metric, /healthz
503 naming the reason, retries — and the link resumes by itself once the broker's
accounts are fixed and reloaded."""

from __future__ import annotations

import asyncio
import logging
import signal

import httpx
import pytest

from device_sim.procs import ManagedProcess
from gateway.app import Gateway
from gateway.broker import BrokerDir, write_passwd
from gateway.registry import load_registry
from tests.support.site import GATEWAY_USER, Site
from tests.support.wait import until
from tests.unit.gateway.helpers import sample

pytestmark = pytest.mark.integration


async def test_a_refused_password_is_reported_once_and_recovers_after_a_broker_reload(
    site: Site, broker: ManagedProcess, caplog: pytest.LogCaptureFixture
) -> None:
    cfg = site.config(mqtt={"password": "not-the-password"}, console={"enabled": False})
    gateway = Gateway(cfg, load_registry(cfg.registry.path), {})
    labels = {"link": "terminals", "reason": "not_authorized"}
    before = sample("gateway_mqtt_connect_failures_total", **labels)
    with caplog.at_level(logging.INFO, logger="gateway.linkstate"):
        task = asyncio.create_task(gateway.run())
        try:
            async with asyncio.timeout(20):
                await until(lambda: sample("gateway_mqtt_connect_failures_total", **labels)
                            >= before + 3)  # fmt: skip
                async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{gateway.http_port}") as h:
                    health = await h.get("/healthz")
            assert health.status_code == 503
            assert health.json()["broker"] is False
            assert health.json()["detail"]["broker"]["reason"] == "not_authorized"
            refused = [r for r in caplog.records if "refuses" in r.getMessage()]
            assert len(refused) == 1
            assert refused[0].levelno == logging.ERROR

            # The site fixes the broker's account (as `reload` does) and the link comes back.
            gateway_accounts = BrokerDir(site.broker_conf.parent).passwd("gateway")
            write_passwd(gateway_accounts, [(GATEWAY_USER, "not-the-password")])
            assert broker.proc is not None
            broker.proc.send_signal(signal.SIGHUP)
            async with asyncio.timeout(60):
                await gateway.ready.wait()
            assert any("up again" in r.getMessage() for r in caplog.records)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
