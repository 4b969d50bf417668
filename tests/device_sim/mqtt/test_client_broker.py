"""The lean client against a real Mosquitto (accounts, ACL, will, TLS listener)."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiomqtt
import pytest

from device_sim.terminals.credentials import Credential
from firmware_protocol.mqtt import packets
from firmware_protocol.mqtt.connection import MqttConnection, State, open_connection
from firmware_protocol.mqtt.errors import ConnectFailed, ConnectionLost, ConnectRefused, MqttError
from firmware_protocol.mqtt.packets import MQTT5, MQTT311, Will
from firmware_protocol.mqtt.tls import client_context
from tests.device_sim.terminals.broker import GATEWAY_PASSWORD, GATEWAY_USER, MosquittoBroker

pytestmark = pytest.mark.integration

OFFLINE = b'{"v":1,"state":"offline"}'


class Recorder:
    """A :class:`~firmware_protocol.mqtt.connection.Listener` that keeps everything it is told."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self.published: list[tuple[object, int]] = []
        self.closed: list[MqttError | None] = []
        self._changed = asyncio.Event()

    def on_message(self, conn: MqttConnection, topic: str, payload: bytes) -> None:
        self.messages.append((topic, payload))
        self._notify()

    def on_published(self, conn: MqttConnection, token: object, code: int) -> None:
        self.published.append((token, code))
        self._notify()

    def on_closed(self, conn: MqttConnection, error: MqttError | None) -> None:
        self.closed.append(error)
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(10):
            while not predicate():
                await self._changed.wait()


def _topic(terminal_id: str, channel: str) -> str:
    return f"ec/v1/t/{terminal_id}/{channel}"


async def connect(
    port: int,
    credential: Credential,
    recorder: Recorder,
    *,
    version: int = MQTT311,
    keepalive_s: int = 60,
    host: str = "127.0.0.1",
    tls: ssl.SSLContext | None = None,
    coalesce: bool = False,
) -> MqttConnection:
    will = Will(_topic(credential.terminal_id, "status"), OFFLINE)
    packet = packets.connect(
        credential.terminal_id,
        username=credential.terminal_id,
        password=credential.password,
        keepalive_s=keepalive_s,
        will=will,
        version=version,
    )
    conn = MqttConnection(recorder, credential.terminal_id, packet, keepalive_s=keepalive_s,
                          version=version, coalesce=coalesce)  # fmt: skip
    async with asyncio.timeout(10):
        return await open_connection(host, port, conn, tls=tls)


@asynccontextmanager
async def gateway(port: int, *topics: str) -> AsyncIterator[aiomqtt.Client]:
    """The gateway's account (may read every terminal topic), subscribed to ``topics``."""
    async with aiomqtt.Client(
        "127.0.0.1", port, username=GATEWAY_USER, password=GATEWAY_PASSWORD
    ) as client:
        for name in topics:
            await client.subscribe(name, qos=1)
        yield client


async def next_message(client: aiomqtt.Client) -> aiomqtt.Message:
    async with asyncio.timeout(10):
        return await anext(aiter(client.messages))


@pytest.mark.parametrize("version", [MQTT311, MQTT5], ids=["mqtt311", "mqtt5"])
async def test_subscribe_publish_and_retained_status(
    mosquitto: MosquittoBroker, version: int
) -> None:
    recorder = Recorder()
    t01 = mosquitto.terminals[0]
    conn = await connect(mosquitto.port, t01, recorder, version=version)
    async with asyncio.timeout(10):
        granted = await conn.subscribe([(_topic("t-01", "ack"), 1), (_topic("t-01", "cmd"), 1)])
    assert granted == (1, 1)
    assert conn.publish(_topic("t-01", "status"), b'{"v":1,"state":"online"}', retain=True,
                        token="status")  # fmt: skip
    await recorder.wait_for(lambda: bool(recorder.published))
    [(token, code)] = recorder.published
    assert token == "status"
    assert code in (0, 0x10)  # MQTT 5: "no matching subscribers" is a success too
    async with gateway(mosquitto.port, _topic("t-01", "status")) as watcher:
        retained = await next_message(watcher)  # subscribed after the fact: the retained copy
    assert retained.retain
    assert retained.payload == b'{"v":1,"state":"online"}'
    conn.disconnect()
    await recorder.wait_for(lambda: bool(recorder.closed))
    assert recorder.closed == [None]


async def test_qos1_downlink_is_acknowledged_beyond_the_broker_inflight_window(
    mosquitto: MosquittoBroker,
) -> None:
    # Mosquitto sends at most 20 unacknowledged QoS 1 messages per client: all 60 arriving
    # shows the client's PUBACKs reach the broker.
    recorder = Recorder()
    conn = await connect(mosquitto.port, mosquitto.terminals[1], recorder)
    async with asyncio.timeout(10):
        await conn.subscribe([(_topic("t-02", "ack"), 1)])
    async with gateway(mosquitto.port) as gw:
        for i in range(60):
            await gw.publish(_topic("t-02", "ack"), str(i).encode(), qos=1)
        await recorder.wait_for(lambda: len(recorder.messages) == 60)
    assert [p for _, p in recorder.messages] == [str(i).encode() for i in range(60)]
    conn.disconnect()


async def test_many_publications_each_get_their_own_puback(mosquitto: MosquittoBroker) -> None:
    recorder = Recorder()
    conn = await connect(mosquitto.port, mosquitto.terminals[2], recorder)
    for i in range(200):
        assert conn.publish(_topic("t-03", "health"), b"{}", retain=False, token=i)
    await recorder.wait_for(lambda: len(recorder.published) == 200)
    assert sorted(token for token, _ in recorder.published) == list(range(200))  # type: ignore[type-var]
    assert conn.unacked() == []
    conn.disconnect()


class CountingTransport(asyncio.Transport):
    """Passes everything to the connection's own transport and keeps each write."""

    def __init__(self, inner: asyncio.Transport) -> None:
        super().__init__()
        self.inner = inner
        self.writes: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))
        self.inner.write(data)

    def get_write_buffer_size(self) -> int:
        return self.inner.get_write_buffer_size()

    def is_closing(self) -> bool:
        return self.inner.is_closing()

    def close(self) -> None:
        self.inner.close()

    def abort(self) -> None:
        self.inner.abort()


async def _burst(mosquitto: MosquittoBroker, coalesce: bool) -> tuple[CountingTransport, int]:
    """50 health reports published in one turn of the event loop, all the way to a
    subscriber: the writes that carried them, and how many reached it."""
    recorder = Recorder()
    conn = await connect(mosquitto.port, mosquitto.terminals[2], recorder, coalesce=coalesce)
    assert conn.transport is not None
    counting = conn.transport = CountingTransport(conn.transport)
    async with gateway(mosquitto.port, _topic("t-03", "health")) as watcher:
        for i in range(50):
            assert conn.publish(_topic("t-03", "health"), str(i).encode(), retain=False,
                                token=i)  # fmt: skip
        got = [await next_message(watcher) for _ in range(50)]
        await recorder.wait_for(lambda: len(recorder.published) == 50)
    conn.disconnect()
    assert [m.payload for m in got] == [str(i).encode() for i in range(50)]  # in order
    return counting, len(got)


async def test_a_coalescing_connection_writes_one_turns_publications_at_once(
    mosquitto: MosquittoBroker,
) -> None:
    counting, received = await _burst(mosquitto, coalesce=True)
    assert received == 50
    # The burst in one write; then the DISCONNECT (and any PUBACK-free tail) after it.
    assert counting.writes[0].count(b"ec/v1/t/t-03/health") == 50
    assert counting.writes[-1] == packets.DISCONNECT


async def test_a_plain_connection_writes_every_packet_as_it_comes(
    mosquitto: MosquittoBroker,
) -> None:
    counting, received = await _burst(mosquitto, coalesce=False)
    assert received == 50
    assert len(counting.writes) == 51  # 50 PUBLISHes, then the DISCONNECT


async def test_a_coalescing_connection_sends_what_it_holds_before_disconnecting(
    mosquitto: MosquittoBroker,
) -> None:
    recorder = Recorder()
    conn = await connect(mosquitto.port, mosquitto.terminals[0], recorder, coalesce=True)
    async with gateway(mosquitto.port, "ec/v1/t/+/status") as watcher:
        assert conn.publish(_topic("t-01", "status"), b'{"v":1,"state":"online"}',
                            retain=False, token="last")  # fmt: skip
        conn.disconnect()  # in the same turn: the publication must not be lost
        message = await next_message(watcher)
        await recorder.wait_for(lambda: bool(recorder.closed))
    assert message.payload == b'{"v":1,"state":"online"}'  # not the will: a clean close
    assert recorder.closed == [None]


async def test_pingreq_is_answered(mosquitto: MosquittoBroker) -> None:
    recorder = Recorder()
    conn = await connect(mosquitto.port, mosquitto.terminals[0], recorder, keepalive_s=5)
    try:
        conn.last_sent -= 4  # idle for more than 3/4 of the keepalive: ping
        sent = conn.last_sent
        assert conn.keepalive(time.monotonic()) == 2.5  # look again after half the keepalive
        assert conn.awaiting_pingresp
        assert conn.last_sent > sent
        # The broker answers in order: once this PUBACK is in, so is the PINGRESP.
        conn.publish(_topic("t-01", "health"), b"{}", retain=False, token="after-ping")
        await recorder.wait_for(lambda: bool(recorder.published))
        assert not conn.awaiting_pingresp
        wait = conn.keepalive(time.monotonic())  # answered, and just sent: nothing to do
        assert wait == pytest.approx(3.75, abs=0.1)
        assert conn.state is State.OPEN
    finally:
        conn.disconnect()


async def test_unanswered_ping_drops_the_connection(mosquitto: MosquittoBroker) -> None:
    recorder = Recorder()
    conn = await connect(mosquitto.port, mosquitto.terminals[0], recorder, keepalive_s=10)
    now = time.monotonic()
    assert conn.keepalive(now + 8) == 5  # ping, then look again after half the keepalive
    conn.last_received = now  # as if the PINGRESP never came
    assert conn.keepalive(now + 13) is None
    await recorder.wait_for(lambda: bool(recorder.closed))
    [error] = recorder.closed
    assert isinstance(error, ConnectionLost)
    assert "PINGRESP" in str(error)


async def test_clean_disconnect_keeps_the_will_a_drop_fires_it(mosquitto: MosquittoBroker) -> None:
    t01, t02 = mosquitto.terminals[0], mosquitto.terminals[1]
    async with gateway(mosquitto.port, "ec/v1/t/+/status") as watcher:
        polite, rude = Recorder(), Recorder()
        first = await connect(mosquitto.port, t01, polite)
        second = await connect(mosquitto.port, t02, rude)
        first.disconnect()
        await polite.wait_for(lambda: bool(polite.closed))
        second.abort()
        message = await next_message(watcher)
        await rude.wait_for(lambda: bool(rude.closed))
    assert message.topic.value == "ec/v1/t/t-02/status"  # only the dropped one's will
    assert message.payload == OFFLINE
    assert polite.closed == [None]
    assert isinstance(rude.closed[0], ConnectionLost)


@pytest.mark.parametrize(("version", "codes"), [(MQTT311, {4, 5}), (MQTT5, {0x86, 0x87})],
                         ids=["mqtt311", "mqtt5"])  # fmt: skip
async def test_wrong_password_is_refused_by_connack(
    mosquitto: MosquittoBroker, version: int, codes: set[int]
) -> None:
    with pytest.raises(ConnectRefused) as caught:
        await connect(mosquitto.port, Credential("t-01", "wrong"), Recorder(), version=version)
    assert caught.value.code in codes
    assert "not authorized" in str(caught.value) or "password" in str(caught.value)


async def test_empty_client_id_without_clean_session_is_rejected(
    mosquitto: MosquittoBroker,
) -> None:
    packet = packets.connect("", username="t-01", password="pw-01", clean=False)
    conn = MqttConnection(Recorder(), "anonymous", packet, keepalive_s=60)
    with pytest.raises(ConnectRefused) as caught:
        async with asyncio.timeout(10):
            await open_connection("127.0.0.1", mosquitto.port, conn)
    assert caught.value.code == 2
    assert caught.value.reason == "identifier rejected"


async def test_nobody_listening_is_a_tcp_failure(mosquitto: MosquittoBroker) -> None:
    with pytest.raises(ConnectFailed) as caught:
        await connect(1, mosquitto.terminals[0], Recorder())
    assert caught.value.kind == "tcp"


async def test_tls_with_the_site_ca(mosquitto_tls: MosquittoBroker) -> None:
    assert mosquitto_tls.tls is not None
    assert mosquitto_tls.tls_port is not None
    recorder = Recorder()
    context = client_context(mosquitto_tls.tls.ca)
    conn = await connect(mosquitto_tls.tls_port, mosquitto_tls.terminals[0], recorder,
                         host="localhost", tls=context)  # fmt: skip
    assert conn.publish(_topic("t-01", "status"), b"{}", retain=True, token="s")
    await recorder.wait_for(lambda: bool(recorder.published))
    ssl_object = conn.transport.get_extra_info("ssl_object")  # type: ignore[union-attr]
    assert ssl_object.version() in ("TLSv1.2", "TLSv1.3")
    conn.disconnect()


async def test_tls_with_a_wrong_ca_fails_verification(mosquitto_tls: MosquittoBroker) -> None:
    assert mosquitto_tls.tls is not None
    assert mosquitto_tls.tls_port is not None
    context = client_context(mosquitto_tls.tls.other_ca)
    with pytest.raises(ConnectFailed) as caught:
        await connect(mosquitto_tls.tls_port, mosquitto_tls.terminals[0], Recorder(),
                      host="localhost", tls=context)  # fmt: skip
    assert caught.value.kind == "tls"
    assert "certificate verify failed" in str(caught.value)


async def test_tls_with_a_wrong_password_is_refused(mosquitto_tls: MosquittoBroker) -> None:
    assert mosquitto_tls.tls is not None
    assert mosquitto_tls.tls_port is not None
    with pytest.raises(ConnectRefused):
        await connect(mosquitto_tls.tls_port, Credential("t-01", "wrong"), Recorder(),
                      host="localhost", tls=client_context(mosquitto_tls.tls.ca))  # fmt: skip
