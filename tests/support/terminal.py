"""A bare test terminal on aiomqtt: publish exactly what a test says, record acks."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt

from firmware_protocol.topics import Channel, topic
from gateway.config import TlsClientConfig
from gateway.tls import client_context


@dataclass
class ScriptedTerminal:
    terminal_id: str
    client: aiomqtt.Client
    acks: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def publish(self, channel: Channel, payload: bytes | str, qos: int = 1) -> None:
        await self.client.publish(topic(self.terminal_id, channel), payload, qos=qos)

    async def alert(self, alert_id: str, kind: str = "emergency", ts: float = 1.7e9) -> None:
        body = {"v": 1, "alert_id": alert_id, "kind": kind, "ts": ts}
        await self.publish(Channel.ALERT, json.dumps(body))

    async def wait_ack(self, alert_id: str, stage: str) -> dict[str, Any]:
        """The first ack for ``alert_id`` at ``stage`` (the caller sets the timeout)."""

        def find() -> dict[str, Any] | None:
            return next(
                (a for a in self.acks if a["alert_id"] == alert_id and a["stage"] == stage), None
            )

        async with self.arrived:
            await self.arrived.wait_for(lambda: find() is not None)
        found = find()
        assert found is not None
        return found

    async def _listen(self) -> None:
        async for message in self.client.messages:
            assert isinstance(message.payload, bytes)
            async with self.arrived:
                self.acks.append(json.loads(message.payload))
                self.arrived.notify_all()


@asynccontextmanager
async def connect_terminal(
    port: int, terminal_id: str, password: str, v5: bool = False,
    tls_context: ssl.SSLContext | None = None,
) -> AsyncIterator[ScriptedTerminal]:  # fmt: skip
    protocol = aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311
    async with aiomqtt.Client(
        "127.0.0.1", port, username=terminal_id, password=password, identifier=terminal_id,
        protocol=protocol, tls_context=tls_context,
    ) as client:  # fmt: skip
        await client.subscribe(topic(terminal_id, Channel.ACK), qos=1)
        terminal = ScriptedTerminal(terminal_id, client)
        async with asyncio.TaskGroup() as tg:
            listener = tg.create_task(terminal._listen(), name=f"listen-{terminal_id}")
            try:
                yield terminal
            finally:
                listener.cancel()


def pinned(ca_file: Path) -> ssl.SSLContext:
    """What PROTOCOL.md §1.1 asks of a terminal: TLS 1.2+, the site CA only, host checked
    (the gateway's own policy, which also closes the socket of a failed handshake)."""
    return client_context(TlsClientConfig(ca_file=ca_file), "terminal.tls")
