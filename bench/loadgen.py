"""Load generator: many terminal accounts publishing a message mix as fast as QoS 1 allows.

Run as a separate process (``python -m bench.loadgen``) so that it does not share an
interpreter with what it measures. Uses paho-mqtt directly: a benchmark load generator
should cost as little CPU per message as possible.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

MIX = (("alert", 0.1), ("health", 0.6), ("status", 0.3))


def payload(channel: str, ident: str, seq: int) -> bytes:
    now = time.time()
    if channel == "alert":
        doc: dict[str, object] = {"v": 1, "alert_id": f"{ident}-{seq}", "kind": "meal", "ts": now}
    elif channel == "health":
        doc = {"v": 1, "report_id": f"{ident}-{seq}", "ts": now,
               "vitals": {"heart_rate_bpm": 72, "spo2_pct": 97.5, "steps": seq % 9000}}  # fmt: skip
    else:
        doc = {"v": 1, "state": "online", "ts": now, "battery_pct": 80, "signal_dbm": -70}
    return json.dumps(doc, separators=(",", ":")).encode()


def connect(host: str, port: int, terminal_id: str, password: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=terminal_id)
    client.username_pw_set(terminal_id, password)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    connected = threading.Event()
    client.on_connect = lambda *args: connected.set()
    client.connect(host, port, keepalive=60)
    client.loop_start()
    if not connected.wait(15):
        raise SystemExit(f"{terminal_id}: could not connect")
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--credentials", type=Path, required=True)
    parser.add_argument("--skip", type=int, default=0, help="use credentials after this many")
    parser.add_argument("--terminals", type=int, default=20)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--mix", choices=("mix", "alert", "health"), default="mix")
    parser.add_argument("--tag", default="0", help="makes ids unique across processes")
    args = parser.parse_args()
    with args.credentials.open() as handle:
        rows = list(csv.DictReader(handle))[args.skip : args.skip + args.terminals]
    clients = [(r["terminal_id"], connect("127.0.0.1", args.port, r["terminal_id"],
                                           r["password"])) for r in rows]  # fmt: skip
    rng = random.Random(args.tag)
    channels = [c for c, _ in MIX] if args.mix == "mix" else [args.mix]
    weights = [w for _, w in MIX] if args.mix == "mix" else [1.0]
    infos = []
    start = time.perf_counter()
    for seq in range(args.messages):
        terminal_id, client = clients[seq % len(clients)]
        channel = rng.choices(channels, weights)[0]
        body = payload(channel, f"bench-{args.tag}", seq)
        infos.append(client.publish(f"ec/v1/t/{terminal_id}/{channel}", body, qos=1))
    for info in infos:
        info.wait_for_publish(60)
    elapsed = time.perf_counter() - start
    for _, client in clients:
        client.disconnect()
        client.loop_stop()
    json.dump({"messages": args.messages, "seconds": elapsed}, sys.stdout)


if __name__ == "__main__":
    main()
