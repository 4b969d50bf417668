"""A misbehaving terminal, as a separate process: floods its own topics with invalid payloads.

Like the outside probe: valid credentials, payloads that fail the protocol's checks, one in
``--big-every`` of them 70-300 kB (the protocol allows 2,048 bytes). Small ones go QoS 1 (the
broker's PUBACK is counted), big ones QoS 0 (paho would resend an unacknowledged QoS 1
message after every reconnect, and the broker drops the connection on each). Prints a JSON
summary: ``acked`` (small payloads the broker confirmed), ``connects``, ``big``.

    python -m bench.flooder --port 1883 --user T000003 --password … --seconds 10
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

SMALL = [
    b"\xff\xfe not json",
    b"[1, 2, 3]",
    b'{"v": 9, "alert_id": "f", "kind": "meal", "ts": 1}',
    b'{"v": 1, "alert_id": "f", "kind": "party", "ts": 1}',
    b'{"v": 1, "report_id": "r", "ts": 1, "vitals": {}}',
    b'{"v": 1, "state": "asleep"}',
]


class Counts:
    """PUBACKs of the QoS 1 publishes (paho also reports QoS 0 ones as published)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.acked = 0
        self.connects = 0
        self.qos0: set[int] = set()

    def on_publish(self, client: Any, userdata: Any, mid: int, *args: Any) -> None:
        with self.lock:
            if mid in self.qos0:
                self.qos0.discard(mid)
            else:
                self.acked += 1

    def on_connect(self, *args: Any) -> None:
        with self.lock:
            self.connects += 1


def flood(
    port: int, user: str, password: str, seconds: float, big_every: int, seed: int,
    channels: tuple[str, ...] = ("alert", "health", "status"),
) -> dict[str, int]:  # fmt: skip
    rng = random.Random(seed)
    counts = Counts()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=user, clean_session=True)
    client.username_pw_set(user, password)
    client.max_inflight_messages_set(100)
    client.reconnect_delay_set(1, 2)
    client.on_publish = counts.on_publish
    client.on_connect = counts.on_connect
    client.connect("127.0.0.1", port, keepalive=30)
    client.loop_start()
    big = 0
    sent = 0
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not client.is_connected():
                time.sleep(0.01)
                continue
            topic = f"ec/v1/t/{user}/{rng.choice(channels)}"
            if rng.randrange(big_every) == 0:
                with counts.lock:
                    body = b"{" + b"x" * rng.randrange(70_000, 300_000)
                    counts.qos0.add(client.publish(topic, body, qos=0).mid)
                big += 1
                continue
            info = client.publish(topic, rng.choice(SMALL), qos=1)
            sent += 1
            if sent % 50 == 0:  # pace on the broker's PUBACKs
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(timeout=2)
    finally:
        time.sleep(0.5)
        client.disconnect()
        client.loop_stop()
    return {"acked": counts.acked, "connects": counts.connects, "big": big}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--big-every", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--channels", default="alert,health,status", help="Topics flooded.")
    args = parser.parse_args()
    channels = tuple(args.channels.split(","))
    summary = flood(args.port, args.user, args.password, args.seconds, args.big_every, args.seed,
                    channels)  # fmt: skip
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
