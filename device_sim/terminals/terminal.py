"""One simulated terminal's identity and mutable state (no I/O of its own)."""

from __future__ import annotations

from dataclasses import dataclass

from device_sim.terminals.credentials import Credential
from device_sim.terminals.options import Endpoint
from device_sim.terminals.payloads import message_id
from firmware_protocol.mqtt import MqttConnection
from firmware_protocol.topics import Channel, topic


@dataclass(frozen=True, slots=True)
class Publication:
    """One uplink message: QoS 1 always; ``retain`` for status."""

    channel: Channel
    payload: bytes
    retain: bool = False
    label: str = "alert"  # what the publication counts as in the summary


class Terminal:
    """A terminal: its login and broker, its connection and its id counter.

    ``conn`` is set from the broker's CONNACK until the connection closes; ``online``
    only once the terminal has subscribed and announced itself (protocol §4).
    """

    __slots__ = (
        "boot",
        "conn",
        "credential",
        "endpoint",
        "ever_online",
        "failures",
        "offline_until",
        "online",
        "prefix",
        "queued",
        "seq",
        "status_generation",
        "status_interval_s",
    )

    def __init__(
        self, credential: Credential, endpoint: Endpoint, boot: str, status_interval_s: float
    ) -> None:
        self.credential = credential
        self.endpoint = endpoint
        # Validates the id once; every topic of the terminal shares this prefix.
        self.prefix = topic(credential.terminal_id, Channel.ALERT).rpartition("/")[0]
        self.boot = boot
        self.conn: MqttConnection | None = None
        self.online = False
        self.ever_online = False
        self.queued = False  # waiting for a connection attempt
        self.failures = 0  # connection attempts failed in a row
        self.offline_until = 0.0
        self.status_interval_s = status_interval_s
        self.status_generation = 0
        self.seq = 0

    def __repr__(self) -> str:
        return f"Terminal({self.id!r}, online={self.online})"

    @property
    def id(self) -> str:
        """The terminal id (also MQTT username and client id)."""
        return self.credential.terminal_id

    def topic(self, channel: Channel) -> str:
        """This terminal's topic for ``channel``."""
        return f"{self.prefix}/{channel.value}"

    def next_id(self, prefix: str) -> str:
        """A fresh message id: alerts ``b…``, health reports ``h…``, malformed ``m…``."""
        self.seq += 1
        return message_id(prefix, self.boot, self.seq)
