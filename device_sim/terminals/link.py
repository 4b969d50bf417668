"""The thin MQTT adapter: one aiomqtt client per terminal connection, and the plug pull.

A fresh client per connection attempt: with a clean session nothing of the old one is
worth keeping, and paho's per-client queues would otherwise replay stale publishes.
"""

from __future__ import annotations

import socket

import aiomqtt

from device_sim.terminals.credentials import Credential
from device_sim.terminals.options import Broker
from firmware_protocol.codec import encode_status
from firmware_protocol.messages import Status, TerminalState
from firmware_protocol.topics import Channel, topic

#: Incoming messages a connection may queue before they are handled (acks and commands).
INCOMING_QUEUE = 256


def will_for(terminal_id: str) -> aiomqtt.Will:
    """The last will: retained ``offline`` on the terminal's status topic, QoS 1."""
    payload = encode_status(Status(terminal_id, TerminalState.OFFLINE))
    return aiomqtt.Will(topic(terminal_id, Channel.STATUS), payload, qos=1, retain=True)


def open_client(credential: Credential, broker: Broker) -> aiomqtt.Client:
    """An unconnected client for ``credential`` (enter it to connect)."""
    v5 = broker.mqtt5
    return aiomqtt.Client(
        broker.host,
        broker.port,
        username=credential.terminal_id,
        password=credential.password,
        identifier=credential.terminal_id,
        protocol=aiomqtt.ProtocolVersion.V5 if v5 else aiomqtt.ProtocolVersion.V311,
        # MQTT 5 has clean start (aiomqtt's default: clean on the first connect) instead.
        clean_session=None if v5 else True,
        will=will_for(credential.terminal_id),
        keepalive=broker.keepalive_s,
        max_queued_incoming_messages=INCOMING_QUEUE,
    )


def close_ungracefully(client: aiomqtt.Client) -> bool:
    """Cut the connection without DISCONNECT, as a power cut would, so the will fires.

    aiomqtt has no public way to lose a connection on purpose; shutting the socket down
    makes paho see the connection as lost, exactly as on a network failure.
    Returns False when there was no open socket.
    """
    sock = client._client.socket()
    if not isinstance(sock, socket.socket):
        return False
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return False
    return True
