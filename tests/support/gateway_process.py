"""The gateway as an operator runs it: a config file and ``python -m gateway …`` processes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import tomli_w

from device_sim.procs import ManagedProcess, free_port
from tests.support.site import GATEWAY_USER, Site

TOKEN = "ops-token-0123456789abcdef"
ENV = {"PATH": "/usr/bin:/bin", "OPS_TOKEN": TOKEN}


def write_config(site: Site, path: Path, **sections: dict[str, Any]) -> dict[str, Any]:
    """A config file for ``site`` (webhooks and console off, a free HTTP port, an API
    token); ``sections`` extend it. Returns the document written."""
    doc: dict[str, dict[str, Any]] = {
        "mqtt": {"port": site.gateway_port, "username": GATEWAY_USER,
                 "password": site.gateway_password, "client_id": f"gw-{site.broker_port}"},
        "registry": {"path": str(site.registry_path)},
        "store": {"path": str(site.root / "gateway.db"), "synchronous": "NORMAL"},
        "http": {"port": free_port()},
        "console": {"enabled": False},
        "api": {"tokens": [{"name": "ops", "token_env": "OPS_TOKEN"}]},
        "supervision": {"sweep_interval_s": 0.5},
    }  # fmt: skip
    for name, values in sections.items():
        doc.setdefault(name, {}).update(values)
    path.write_text(tomli_w.dumps(doc))
    return doc


def command(*args: str, env: Mapping[str, str] | None = None, stdin: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``python -m gateway ARGS`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], capture_output=True, text=True,
        env={**ENV, **(env or {})}, input=stdin, timeout=timeout,
    )  # fmt: skip


@contextmanager
def gateway_process(
    config: Path, log: Path, prefix: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> Iterator[ManagedProcess]:
    """``python -m gateway run`` in the background; stopped (SIGTERM) at the end."""
    argv = [*prefix, sys.executable, "-m", "gateway", "run", "--config", str(config)]
    with ManagedProcess(argv, log, env={**ENV, **(env or {})}) as proc:
        yield proc


async def wait_healthy(port: int, proc: ManagedProcess) -> dict[str, Any]:
    """Poll ``/healthz`` until 200 (for at most 30 s); fail early if the process died."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        async with asyncio.timeout(30):
            while True:
                if not proc.running:
                    raise AssertionError(f"gateway exited:\n{proc.tail(40)}")
                try:
                    response = await http.get("/healthz")
                    if response.status_code == 200:
                        body: dict[str, Any] = response.json()
                        return body
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)


async def metric(port: int, line_start: str) -> float:
    """The value of the first ``/metrics`` line starting with ``line_start`` (0 if none)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        text = (await http.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(line_start):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def until_metric(port: int, line_start: str, at_least: float) -> None:
    """Return once the metric reaches ``at_least`` (the caller sets the timeout)."""
    while await metric(port, line_start) < at_least:  # noqa: ASYNC110 - polling over HTTP
        await asyncio.sleep(0.1)
