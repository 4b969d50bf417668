"""TLS wherever a network is crossed, against real Mosquitto and a real HTTPS server.

Terminals reach the broker over TLS with the site CA; a wrong CA or password is refused.
The gateway's own links verify the server against the configured CA, count a refused
certificate and keep retrying.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import aiomqtt
import httpx
import pytest

from device_sim.brokers import SiteBrokers
from device_sim.procs import ManagedProcess, free_port
from firmware_protocol.messages import Stage
from gateway.errors import DeliveryError
from gateway.forward.webhook import WebhookSink
from gateway.pki import Issued, create_ca, issue_server, load_issued
from gateway.store.outbox import OutboxItem
from gateway.tls import certificate_problem
from tests.support.district import district
from tests.support.gateway import running_gateway
from tests.support.site import Site, make_site
from tests.support.terminal import connect_terminal, pinned
from tests.support.wait import until
from tests.unit.gateway.helpers import sample

pytestmark = pytest.mark.integration

NOW = dt.datetime.now(dt.UTC)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _other_ca(tmp_path: Path) -> Path:
    path = tmp_path / "other-ca.crt"
    create_ca("someone else's CA", NOW).write(path, tmp_path / "other-ca.key")
    return path


async def test_a_terminal_over_tls_with_the_site_ca_raises_an_alarm_end_to_end(
    site: Site, broker: ManagedProcess
) -> None:
    t = site.terminals[9].terminal_id
    async with (
        district(site, terminals=1) as d,
        connect_terminal(site.tls_port, t, site.passwords[t], tls_context=pinned(site.ca_file))
        as terminal,
    ):  # fmt: skip
        await terminal.alert("over-tls")
        async with asyncio.timeout(15):
            await terminal.wait_ack("over-tls", Stage.DELIVERED.value)
        assert any(e.data.get("alert_id") == "over-tls" for e in d.center.events)


async def _refusal(site: Site, context: ssl.SSLContext, password: str) -> aiomqtt.MqttError:
    t = site.terminals[1].terminal_id
    client = aiomqtt.Client(
        "127.0.0.1", site.tls_port, username=t, password=password, identifier=t,
        tls_context=context,
    )  # fmt: skip
    with pytest.raises(aiomqtt.MqttError) as caught:
        async with asyncio.timeout(10), client:
            pass
    return caught.value


async def test_a_terminal_with_a_wrong_ca_is_refused(
    site: Site, broker: ManagedProcess, tmp_path: Path
) -> None:
    t = site.terminals[1].terminal_id
    error = await _refusal(site, pinned(_other_ca(tmp_path)), site.passwords[t])

    assert certificate_problem(error) is not None
    assert "certificate" in str(certificate_problem(error))


async def test_a_terminal_with_a_wrong_password_is_refused(
    site: Site, broker: ManagedProcess
) -> None:
    error = await _refusal(site, pinned(site.ca_file), "not-the-password")

    assert isinstance(error, aiomqtt.MqttCodeError)
    assert certificate_problem(error) is None  # TLS was fine; the login was not


def _expire_certificate(site: Site) -> Issued:
    """Replace the broker's certificate by an expired one; return the site CA."""
    ca = load_issued(site.ca_file, site.ca_file.with_suffix(".key"))
    files = site.provisioned.broker_dir("site")
    issue_server(ca, ["127.0.0.1", "localhost"], NOW, days=-1).write(files.cert, files.key)
    return ca


async def test_gateway_refuses_an_expired_broker_certificate_counts_it_and_retries(
    tmp_path: Path,
) -> None:
    site = make_site(tmp_path, gateway_tls=True)
    ca = _expire_certificate(site)
    cfg = site.config(mqtt={"tls": {"ca_file": str(site.ca_file)}})
    before = sample("gateway_tls_failures_total", link="terminals")
    with SiteBrokers(site.root) as brokers:
        async with running_gateway(cfg, wait_ready=False) as gateway:
            async with asyncio.timeout(20):
                await until(lambda: sample("gateway_tls_failures_total", link="terminals")
                            >= before + 4)  # fmt: skip
            assert not gateway.link.connected
            # Renewed: Mosquitto re-reads its certificate on SIGHUP; the gateway gets in.
            files = site.provisioned.broker_dir("site")
            issue_server(ca, ["127.0.0.1", "localhost"], NOW).write(files.cert, files.key)
            proc = brokers.process("site").proc
            assert proc is not None
            os.kill(proc.pid, signal.SIGHUP)
            async with asyncio.timeout(40):
                await gateway.ready.wait()


async def test_gateway_with_the_wrong_ca_never_connects(tmp_path: Path) -> None:
    site = make_site(tmp_path, gateway_tls=True)
    cfg = site.config(mqtt={"tls": {"ca_file": str(_other_ca(tmp_path))}})
    before = sample("gateway_tls_failures_total", link="terminals")
    with SiteBrokers(site.root):
        async with running_gateway(cfg, wait_ready=False) as gateway:
            async with asyncio.timeout(20):
                await until(lambda: sample("gateway_tls_failures_total", link="terminals")
                            >= before + 2)  # fmt: skip
            assert not gateway.link.connected


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def https_server(tmp_path: Path, cert: Issued) -> Iterator[int]:
    """A real HTTPS receiver on a free port, answering 204 to every POST."""
    cert.write(tmp_path / "web.crt", tmp_path / "web.key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "web.crt", tmp_path / "web.key")
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Ok)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _item() -> OutboxItem:
    return OutboxItem("e-1", "webhook", 0, 0, 0.0, "alert", '{"event_id":"e-1","type":"alert"}')


async def test_webhooks_verify_the_command_center_against_the_configured_ca(
    tmp_path: Path,
) -> None:
    site_ca, other = create_ca("site CA", NOW), create_ca("other CA", NOW)
    site_ca.write(tmp_path / "ca.crt", tmp_path / "ca.key")
    verify = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    before = sample("gateway_tls_failures_total", link="webhook")
    async with httpx.AsyncClient(verify=verify) as http:
        with https_server(tmp_path, issue_server(site_ca, ["127.0.0.1"], NOW)) as port:
            sink = WebhookSink(f"https://127.0.0.1:{port}/hook", SECRET, http)
            assert await sink.deliver([_item()]) == {}
        with https_server(tmp_path, issue_server(other, ["127.0.0.1"], NOW)) as port:
            sink = WebhookSink(f"https://127.0.0.1:{port}/hook", SECRET, http)
            [error] = (await sink.deliver([_item()])).values()
            assert isinstance(error, DeliveryError)
            assert "server certificate refused" in str(error)
    assert sample("gateway_tls_failures_total", link="webhook") == before + 1
