"""The client's errors, one meaning each::

MqttError
├── MalformedPacket    the broker sent bytes that are not a valid MQTT packet for a client
├── ConnectRefused     CONNACK with a non-zero return (reason) code: ``code``, ``reason``
├── ConnectFailed      no MQTT session came up: TCP refused, TLS verification, timeout
└── ConnectionLost     an established connection ended without our DISCONNECT
"""

from __future__ import annotations

#: MQTT 3.1.1 CONNACK return codes (§3.2.2.3) and the MQTT 5 reason codes a broker
#: refuses a CONNECT with (§3.2.2.2), by name.
REFUSALS = {
    1: "unacceptable protocol version",
    2: "identifier rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorized",
    0x80: "unspecified error",
    0x81: "malformed packet",
    0x82: "protocol error",
    0x84: "unsupported protocol version",
    0x85: "client identifier not valid",
    0x86: "bad user name or password",
    0x87: "not authorized",
    0x88: "server unavailable",
    0x89: "server busy",
    0x8A: "banned",
    0x8C: "bad authentication method",
    0x95: "packet too large",
    0x97: "quota exceeded",
    0x9F: "connection rate exceeded",
}


class MqttError(Exception):
    """Base of every error of :mod:`firmware_protocol.mqtt`."""


class MalformedPacket(MqttError):
    """What the broker sent cannot be decoded; the connection is dropped."""


class ConnectRefused(MqttError):
    """The broker answered CONNECT with a refusal."""

    def __init__(self, code: int) -> None:
        self.code = code
        self.reason = REFUSALS.get(code, f"code {code:#04x}")
        super().__init__(f"connection refused: {self.reason}")


class ConnectFailed(MqttError):
    """The connection could not be opened (TCP, TLS or timeout); ``kind`` says which."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        super().__init__(f"{kind}: {detail}")


class ConnectionLost(MqttError):
    """The connection ended without our DISCONNECT (broker gone, keepalive, bad packet)."""
