"""The baselines: a bare consumer, QoS 1, no processing — the receive ceiling.

``--client aiomqtt`` (baseline (a)) is paho/aiomqtt, what a Python service would use;
``--client lean`` (baseline (a')) is the lean client the gateway's own sessions run on
(:mod:`firmware_protocol.mqtt`). Prints ``{"messages": n, "seconds": t}`` where t runs
from the first to the last message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiomqtt

from firmware_protocol.mqtt import MqttConnection, MqttError, open_connection, packets

CHANNELS = ("alert", "health", "status")
#: Stop when the flow dries up for this long, so a broker that dropped some cannot hang us.
DRY_S = 5.0


class _Count:
    def __init__(self) -> None:
        self.count, self.first, self.last = 0, 0.0, 0.0

    def tick(self) -> None:
        self.last = time.monotonic()  # the system-wide clock: the bench reads the same
        if self.count == 0:
            self.first = self.last
        self.count += 1


async def _aiomqtt(port: int, user: str, password: str, ready: Callable[[], Awaitable[None]],
                   expect: int) -> _Count:  # fmt: skip
    seen = _Count()
    async with aiomqtt.Client(
        "127.0.0.1", port, username=user, password=password, identifier="bench-consumer",
        max_inflight_messages=1000,
    ) as client:  # fmt: skip
        for channel in CHANNELS:
            await client.subscribe(f"ec/v1/t/+/{channel}", qos=1)
        await ready()
        messages = aiter(client.messages)
        while seen.count < expect:
            try:
                async with asyncio.timeout(600 if seen.count == 0 else DRY_S):
                    await anext(messages)
            except TimeoutError:
                break
            seen.tick()
    return seen


class _LeanListener:
    def __init__(self, seen: _Count, expect: int) -> None:
        self.seen, self.expect = seen, expect
        self.done = asyncio.Event()

    def on_message(self, conn: MqttConnection, topic: str, payload: bytes) -> None:
        self.seen.tick()
        if self.seen.count >= self.expect:
            self.done.set()

    def on_published(self, conn: MqttConnection, token: object, code: int) -> None:
        pass

    def on_closed(self, conn: MqttConnection, error: MqttError | None) -> None:
        self.done.set()


async def _lean(port: int, user: str, password: str, ready: Callable[[], Awaitable[None]],
                expect: int) -> _Count:  # fmt: skip
    seen = _Count()
    listener = _LeanListener(seen, expect)
    connect = packets.connect("bench-consumer", username=user, password=password,
                              keepalive_s=60)  # fmt: skip
    conn = await open_connection("127.0.0.1", port, MqttConnection(listener, "bench", connect,
                                                                   keepalive_s=60))  # fmt: skip
    await conn.subscribe([(f"ec/v1/t/+/{channel}", 1) for channel in CHANNELS])
    await ready()
    started = time.monotonic()
    while not listener.done.is_set():
        before = seen.count
        try:
            async with asyncio.timeout(DRY_S):
                await listener.done.wait()
        except TimeoutError:
            if seen.count == before and (before or time.monotonic() - started > 600):
                break
    conn.disconnect()
    return seen


async def consume(client: str, port: int, user: str, password: str, expect: int,
                  ready_file: str) -> None:  # fmt: skip
    async def ready() -> None:
        await asyncio.to_thread(Path(ready_file).write_text, "ready")

    run = _lean if client == "lean" else _aiomqtt
    seen = await run(port, user, password, ready, expect)
    json.dump({"messages": seen.count, "seconds": seen.last - seen.first, "first": seen.first,
               "last": seen.last}, sys.stdout)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--client", choices=("aiomqtt", "lean"), default="aiomqtt")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args()
    asyncio.run(consume(args.client, args.port, args.user, args.password, args.expect,
                        args.ready_file))  # fmt: skip


if __name__ == "__main__":
    main()
