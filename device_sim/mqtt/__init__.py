"""A lean MQTT 3.1.1 / 5 client for holding very many connections in one process.

One :class:`MqttConnection` (an :class:`asyncio.Protocol`) per connection and nothing
else per connection: no task, no timer. Publishing is QoS 0/1 without waiting; the owner
drives keepalive from one shared timer. See README, "Written by hand", for why.
"""

from device_sim.mqtt.connection import Listener, MqttConnection, State, open_connection
from device_sim.mqtt.errors import (
    ConnectFailed,
    ConnectionLost,
    ConnectRefused,
    MalformedPacket,
    MqttError,
)
from device_sim.mqtt.packets import MQTT5, MQTT311, Will
from device_sim.mqtt.tls import client_context

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
