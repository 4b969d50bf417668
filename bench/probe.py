"""A second subscriber to the alarms on the district broker, beside the gateway.

Press → the gateway's ack is the brokers' uplink (terminal → town broker → bridge →
district broker) plus the gateway's own work. This probe takes the first hop set apart:
it logs in with the gateway's account under its own client id, subscribes to every
town's ``alert`` topic and times each alarm's first arrival against the ``ts`` the
terminal stamped on it at the press (same machine, same clock). What the gateway adds
is the rest.

It runs paho-mqtt's own network thread and does nothing per message but read ``ts``
and the alert id; ~6 alarms a second and a 5,000-alarm storm cost it little.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from device_sim.terminals.stats import LatencyStats
from firmware_protocol.topics import parse_topic
from gateway.zones import split_zone

#: Every town's alarms as the district broker holds them (the bridges' remapping).
ALERTS = "ec/v1/z/+/t/+/alert"


class UplinkProbe:
    """``with UplinkProbe(...) as probe:`` collects; :meth:`stats` reads a window."""

    def __init__(self, host: str, port: int, username: str, password: str) -> None:
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="bench-uplink-probe",
            protocol=mqtt.MQTTv311, clean_session=True,
        )  # fmt: skip
        self._client.username_pw_set(username, password)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._host, self._port = host, port
        self._lock = threading.Lock()
        #: (terminal id, alert id) → (ts, arrived)
        self._first: dict[tuple[str, str], tuple[float, float]] = {}
        self._subscribed = threading.Event()
        self.unreadable = 0

    def __enter__(self) -> UplinkProbe:
        self._client.connect(self._host, self._port, keepalive=60)
        self._client.loop_start()
        if not self._subscribed.wait(30):
            self.__exit__()
            raise RuntimeError(f"uplink probe: no subscription on {self._host}:{self._port}")
        return self

    def __exit__(self, *_: object) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, code: Any, _p: Any) -> None:
        if not code.is_failure:
            client.subscribe(ALERTS, qos=1)
            self._subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        arrived = time.time()
        try:
            terminal_id, _channel = parse_topic(split_zone(message.topic)[1])
            doc = json.loads(message.payload)
            key, ts = (terminal_id, str(doc["alert_id"])), float(doc["ts"])
        except (ValueError, KeyError, TypeError):  # a ProtocolError is a ValueError
            self.unreadable += 1
            return
        with self._lock:
            self._first.setdefault(key, (ts, arrived))  # a retransmission is not timed

    def arrivals(self) -> dict[tuple[str, str], float]:
        """Each alarm's first arrival here (wall clock), by (terminal id, alert id)."""
        with self._lock:
            return {key: arrived for key, (_ts, arrived) in self._first.items()}

    def stats(self, pressed_from: float, pressed_to: float) -> LatencyStats:
        """Press → district broker of the alarms pressed in ``[pressed_from, pressed_to)``."""
        with self._lock:
            firsts = list(self._first.values())
        return LatencyStats.of(
            arrived - ts for ts, arrived in firsts if pressed_from <= ts < pressed_to
        )
