"""The baseline: a bare aiomqtt consumer, QoS 1, no processing — the receive ceiling.

Prints ``{"messages": n, "seconds": t}`` where t runs from the first to the last message.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

import aiomqtt


async def consume(port: int, user: str, password: str, expect: int, ready_file: str) -> None:
    async with aiomqtt.Client(
        "127.0.0.1", port, username=user, password=password, identifier="bench-consumer",
        max_inflight_messages=1000,
    ) as client:  # fmt: skip
        for channel in ("alert", "health", "status"):
            await client.subscribe(f"ec/v1/t/+/{channel}", qos=1)
        await asyncio.to_thread(Path(ready_file).write_text, "ready")
        count, first, last = 0, 0.0, 0.0
        messages = aiter(client.messages)
        while count < expect:
            try:
                # Stop when the flow dries up, so a broker that dropped some cannot hang us.
                async with asyncio.timeout(600 if count == 0 else 5):
                    await anext(messages)
            except TimeoutError:
                break
            last = time.perf_counter()
            if count == 0:
                first = last
            count += 1
        json.dump({"messages": count, "seconds": last - first}, sys.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--ready-file", required=True)
    args = parser.parse_args()
    asyncio.run(consume(args.port, args.user, args.password, args.expect, args.ready_file))


if __name__ == "__main__":
    main()
