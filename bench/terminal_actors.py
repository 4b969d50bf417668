"""Child processes of ``bench/terminal_cost.py`` (``python -m bench.terminal_actors …``).

* ``ack``: plays the gateway on every broker — answers each alert with ``received``.
* ``aiomqtt``: the baseline — terminals as the simulator held them before, one aiomqtt
  client and one task per terminal (login, will, SUBSCRIBE, retained ``online``, a status
  every ``--status-interval``). Prints one JSON line with its RSS and CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import random
import sys
import time
from pathlib import Path

import aiomqtt

from device_sim.terminals.cost import cpu_seconds, rss_bytes

OFFLINE = b'{"v":1,"state":"offline"}'


async def ack(ports: list[int], password: str) -> None:
    """Answer every alert on every broker with ``received``, until killed."""
    async with asyncio.TaskGroup() as tg:
        for port in ports:
            tg.create_task(_ack_one(port, password), name=f"ack-{port}")


async def _ack_one(port: int, password: str) -> None:
    async with aiomqtt.Client(
        "127.0.0.1", port, username="acker", password=password, identifier=f"acker-{port}",
        max_inflight_messages=1000,
    ) as client:  # fmt: skip
        await client.subscribe("ec/v1/t/+/alert", qos=1)
        async for message in client.messages:
            with contextlib.suppress(ValueError, KeyError, TypeError):
                assert isinstance(message.payload, bytes)
                alert_id = json.loads(message.payload)["alert_id"]
                terminal = message.topic.value.split("/")[3]
                body = {"v": 1, "alert_id": alert_id, "stage": "received", "ts": time.time()}
                await client.publish(f"ec/v1/t/{terminal}/ack", json.dumps(body), qos=1)


def _status(terminal: str) -> bytes:
    body = {"v": 1, "state": "online", "ts": round(time.time(), 3), "battery_pct": 80,
            "signal_dbm": -70, "firmware": "sim-1.0.0"}  # fmt: skip
    return json.dumps(body, separators=(",", ":")).encode()


def _health(seq: int) -> bytes:
    body = {"v": 1, "report_id": f"h{seq}", "ts": round(time.time(), 3),
            "vitals": {"heart_rate_bpm": 72, "spo2_pct": 97.0}}  # fmt: skip
    return json.dumps(body, separators=(",", ":")).encode()


async def _terminal(
    row: list[str], every: tuple[float, float], online: asyncio.Queue[None],
    gate: asyncio.Semaphore,
) -> None:  # fmt: skip
    terminal, password, url = row
    host, _, port = url.removeprefix("mqtt://").rpartition(":")
    status = f"ec/v1/t/{terminal}/status"
    client = aiomqtt.Client(
        host, int(port), username=terminal, password=password, identifier=terminal,
        protocol=aiomqtt.ProtocolVersion.V311, clean_session=True, keepalive=60,
        will=aiomqtt.Will(status, OFFLINE, qos=1, retain=True), max_queued_incoming_messages=256,
    )  # fmt: skip
    async with contextlib.AsyncExitStack() as stack:
        async with gate:
            await stack.enter_async_context(client)
            await client.subscribe([(f"ec/v1/t/{terminal}/ack", 1), (f"ec/v1/t/{terminal}/cmd", 1)])
            await client.publish(status, _status(terminal), qos=1, retain=True)
        online.put_nowait(None)
        await _report(client, terminal, every)


async def _report(client: aiomqtt.Client, terminal: str, every: tuple[float, float]) -> None:
    """Status (and health, if its period is > 0) at their periods, from a random phase."""
    status_s, health_s = every
    now = time.monotonic()
    due = {"status": now + random.uniform(0, status_s)}
    if health_s > 0:
        due["health"] = now + random.uniform(0, health_s)
    seq = 0
    while True:
        name = min(due, key=due.__getitem__)
        await asyncio.sleep(max(0.0, due[name] - time.monotonic()))
        if name == "status":
            await client.publish(f"ec/v1/t/{terminal}/status", _status(terminal), qos=1,
                                 retain=True)  # fmt: skip
            due[name] += status_s
        else:
            seq += 1
            await client.publish(f"ec/v1/t/{terminal}/health", _health(seq), qos=1)
            due[name] += health_s


async def aiomqtt_fleet(
    sheet: Path, count: int, every: tuple[float, float], steady_s: float
) -> None:
    """Connect ``count`` terminals, hold them ``steady_s``, print the cost as JSON."""
    with sheet.open(newline="") as handle:
        rows = list(csv.reader(handle))[1 : count + 1]
    start, start_cpu, start_rss = time.monotonic(), cpu_seconds(), rss_bytes()
    online: asyncio.Queue[None] = asyncio.Queue()
    gate = asyncio.Semaphore(200)
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(_terminal(row, every, online, gate)) for row in rows]
        for _ in rows:
            await online.get()
        connected, connect_cpu = time.monotonic(), cpu_seconds()
        await asyncio.sleep(steady_s)
        cpu, rss = cpu_seconds(), rss_bytes()
        end = time.monotonic()
        for task in tasks:
            task.cancel()
    doc = {
        "terminals": len(rows),
        "processes": 1,
        "connect_s": connected - start,
        "connect_cpu_s": connect_cpu - start_cpu,
        "steady_s": end - connected,
        "steady_cpu_s": cpu - connect_cpu,
        "rss_bytes": rss,
        "rss_start_bytes": start_rss,
    }
    sys.stdout.write(json.dumps(doc) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    acker = sub.add_parser("ack")
    acker.add_argument("--ports", type=int, nargs="+", required=True)
    acker.add_argument("--password", required=True)
    fleet = sub.add_parser("aiomqtt")
    fleet.add_argument("--credentials", type=Path, required=True)
    fleet.add_argument("--count", type=int, required=True)
    fleet.add_argument("--status-interval", type=float, default=60.0)
    fleet.add_argument("--health-interval", type=float, default=0.0)
    fleet.add_argument("--steady", type=float, default=60.0)
    args = parser.parse_args()
    if args.command == "ack":
        asyncio.run(ack(args.ports, args.password))
    else:
        every = (args.status_interval, args.health_interval)
        asyncio.run(aiomqtt_fleet(args.credentials, args.count, every, args.steady))


if __name__ == "__main__":
    main()
