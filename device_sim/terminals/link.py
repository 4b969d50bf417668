"""What a terminal says to the broker when it connects: login, keepalive, last will."""

from __future__ import annotations

from device_sim.terminals.credentials import Credential
from device_sim.terminals.options import Broker
from firmware_protocol.codec import encode_status
from firmware_protocol.messages import Status, TerminalState
from firmware_protocol.mqtt import MQTT5, MQTT311, MqttConnection, State, Will, packets
from firmware_protocol.topics import Channel, topic


def will_for(terminal_id: str) -> Will:
    """The last will: retained ``offline`` on the terminal's status topic, QoS 1."""
    payload = encode_status(Status(terminal_id, TerminalState.OFFLINE))
    return Will(topic(terminal_id, Channel.STATUS), payload, qos=1, retain=True)


def version(broker: Broker) -> int:
    """The MQTT protocol level the terminals speak."""
    return MQTT5 if broker.mqtt5 else MQTT311


def connect_packet(credential: Credential, broker: Broker) -> bytes:
    """CONNECT: client id = username = terminal id, its password, clean session, the will."""
    return packets.connect(
        credential.terminal_id,
        username=credential.terminal_id,
        password=credential.password,
        keepalive_s=broker.keepalive_s,
        will=will_for(credential.terminal_id),
        clean=True,
        version=version(broker),
    )


def close_ungracefully(conn: MqttConnection) -> bool:
    """Cut the connection without DISCONNECT, as a power cut would, so the will fires.

    Returns False when the connection was not open.
    """
    if conn.state is not State.OPEN:
        return False
    conn.abort("dropped on purpose")
    return True
