"""A lean MQTT 3.1.1 / 5 client: the wire both ends of the terminal protocol speak here.

One :class:`MqttConnection` (an :class:`asyncio.Protocol`) per connection and nothing
else per connection: no task, no timer. Publishing is QoS 0/1 without waiting; the owner
drives keepalive from its own timer. The terminal simulator holds 170,000 connections on
it; the gateway's sessions with the terminals' broker run on it (``gateway.intake.session``)
because its receive and publish paths cost a fraction of paho's. See README, "Written by
hand", for why.
"""

from firmware_protocol.mqtt.connection import Listener, MqttConnection, State, open_connection
from firmware_protocol.mqtt.errors import (
    ConnectFailed,
    ConnectionLost,
    ConnectRefused,
    MalformedPacket,
    MqttError,
)
from firmware_protocol.mqtt.packets import MQTT5, MQTT311, Will
from firmware_protocol.mqtt.tls import client_context

__all__ = [
    "MQTT5",
    "MQTT311",
    "ConnectFailed",
    "ConnectRefused",
    "ConnectionLost",
    "Listener",
    "MalformedPacket",
    "MqttConnection",
    "MqttError",
    "State",
    "Will",
    "client_context",
    "open_connection",
]
