"""The baselines: a bare consumer, QoS 1, no processing — the receive ceiling.

``--client aiomqtt`` (baseline (a)) is paho/aiomqtt, what a Python service would use;
``--client lean`` (baseline (a')) is the lean client the gateway's own sessions run on
(:mod:`firmware_protocol.mqtt`).

It measures a drain: it opens a kept session (clean session off) and subscribes, leaves,
says so in ``--ready-file``, and once ``--go-file`` appears — the broker by then holding
the whole load queued for it — comes back to the same session and takes the backlog as
fast as it can. Nothing else runs meanwhile but the broker, so the rate is the
consumer's own ceiling and not what load generators on the same cores left of it.
Prints ``{"messages": n, "seconds": t}`` where t runs from the first to the last
message.
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
    def client() -> aiomqtt.Client:
        return aiomqtt.Client(
            "127.0.0.1", port, username=user, password=password, identifier="bench-consumer",
            clean_session=False, max_inflight_messages=1000,
        )  # fmt: skip

    async with client() as first:
        for channel in CHANNELS:
            await first.subscribe(f"ec/v1/t/+/{channel}", qos=1)
    await ready()
    seen = _Count()
    async with client() as again:
        messages = aiter(again.messages)
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
                              keepalive_s=60, clean=False)  # fmt: skip

    async def session(listener: _LeanListener) -> MqttConnection:
        conn = MqttConnection(listener, "bench", connect, keepalive_s=60)
        return await open_connection("127.0.0.1", port, conn)

    first = await session(_LeanListener(_Count(), 0))  # its close must not end the drain
    await first.subscribe([(f"ec/v1/t/+/{channel}", 1) for channel in CHANNELS])
    first.disconnect()
    await ready()
    conn = await session(listener)
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


def _until_exists(path: Path) -> None:
    while not path.exists():
        time.sleep(0.01)


async def consume(client: str, port: int, user: str, password: str, expect: int,
                  ready_file: str, go_file: str) -> None:  # fmt: skip
    async def ready() -> None:
        """Say the session is kept, then wait until the backlog is in it."""
        await asyncio.to_thread(Path(ready_file).write_text, "ready")
        await asyncio.to_thread(_until_exists, Path(go_file))

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
    parser.add_argument("--ready-file", required=True, help="written once the session is kept")
    parser.add_argument("--go-file", required=True, help="come back for the backlog once it exists")
    args = parser.parse_args()
    asyncio.run(consume(args.client, args.port, args.user, args.password, args.expect,
                        args.ready_file, args.go_file))  # fmt: skip


if __name__ == "__main__":
    main()
