"""The simulated district command center: a webhook receiver that can fail on demand and a
responder that accepts and resolves alarms through the gateway's API.

::

    cc = CommandCenter(CommandCenterOptions(secret="whsec_…"))
    async with asyncio.TaskGroup() as tg:
        tg.create_task(cc.run())
        await cc.wait_ready()
        ...  # point the gateway at f"{cc.url}/webhook"
        async with asyncio.timeout(10):
            await cc.wait_for(lambda events: any(e.type == "alert" for e in events))
        cc.stop()

``down`` mode closes the listening socket (connections are refused) and opens a new one
on the same port when the mode ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from device_sim.command_center.app import build_app
from device_sim.command_center.modes import Mode, ModeSetting, ModeSwitch, parse_control
from device_sim.command_center.options import CommandCenterOptions
from device_sim.command_center.records import EventLog, Received
from device_sim.command_center.responder import Responder
from device_sim.command_center.telephony import Telephony
from device_sim.command_center.webhook import WebhookInbox
from device_sim.terminals.backoff import Backoff, RetrySchedule

log = logging.getLogger(__name__)

#: Retrying calls to the gateway API.
API_RETRY = Backoff(base=1.0, factor=2.0, cap=30.0, jitter=0.2)


class CommandCenter:
    """Webhook receiver + responder; :meth:`run` serves until :meth:`stop`."""

    def __init__(
        self,
        options: CommandCenterOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        retry: RetrySchedule = API_RETRY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._options = options
        self._clock = clock
        self.log = EventLog(limit=options.max_events)
        self._switch = ModeSwitch(options.fail_rate, options.fail_status)
        self._switch.set(options.initial_mode)
        rng = random.Random(options.seed)
        self._inbox = WebhookInbox(
            options.secret, self.log, self._switch, self._on_event, clock=clock, rng=rng
        )
        self._http = httpx.AsyncClient(transport=transport, timeout=options.request_timeout_s)
        self.responder = Responder(
            self._http,
            options.gateway_api,
            options.gateway_token,
            options.responder,
            retry,
            clock,
            on_settled=self._notify,
        )
        self.telephony = Telephony(
            self._http, options.gateway_api, options.telephony, retry, clock,
            seed=options.seed, on_settled=self._notify,
        )  # fmt: skip
        self.app: Starlette = build_app(self._inbox, self._control, self.records, self._health)
        self._port = options.port
        self._server: uvicorn.Server | None = None
        self._taken_down: uvicorn.Server | None = None  # the server stopped for 'down'
        self._ready = asyncio.Event()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()

    # --- looking ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``http://host:port`` (the port is known once :meth:`wait_ready` returned)."""
        host = self._options.host
        return f"http://[{host}]:{self._port}" if ":" in host else f"http://{host}:{self._port}"

    @property
    def events(self) -> list[Received]:
        """Every event recorded, in arrival order, without duplicates."""
        return self.log.events

    @property
    def mode(self) -> ModeSetting:
        """The failure mode in force."""
        return self._switch.current(self._clock())

    def records(
        self, with_events: bool = False, pressed: tuple[float, float] | None = None
    ) -> dict[str, Any]:
        """The ``GET /records`` document (with the event list when ``with_events``, and
        the receive latency of the alarms pressed within ``pressed`` when given)."""
        doc = self.log.to_json(with_events=with_events)
        if pressed is not None:
            doc["latency_s"]["alert_receive_window"] = self.log.latency(pressed).to_json()
        doc["responder"] = {
            "enabled": self.responder.enabled,
            "pending": self.responder.pending,
            **asdict(self.responder.stats),
        }
        doc["telephony"] = {
            "enabled": self.telephony.enabled, **asdict(self.telephony.stats),
            "calls": list(self.telephony.calls),
        }  # fmt: skip
        doc["mode"] = self.mode.to_json()
        return doc

    def _health(self) -> dict[str, Any]:
        return {"ok": True, "mode": self.mode.mode.value, "events": len(self.events)}

    # --- controlling --------------------------------------------------------------------

    def set_mode(
        self,
        mode: Mode | str,
        *,
        status: int = 503,
        delay_s: float = 2.0,
        for_s: float | None = None,
    ) -> ModeSetting:
        """Switch the failure mode (back to ``ok`` after ``for_s`` when given)."""
        doc = {"mode": str(mode), "status": status, "delay_s": delay_s, "for_s": for_s}
        setting = parse_control(doc, self._clock())
        self._apply(setting)
        return setting

    def _control(self, doc: object) -> dict[str, Any]:
        setting = parse_control(doc, self._clock())
        self._apply(setting)
        return setting.to_json()

    def _apply(self, setting: ModeSetting) -> None:
        log.info("mode: %s", setting.to_json())
        self._switch.set(setting)
        self._wake.set()
        if setting.mode is Mode.DOWN:
            self._ready.clear()
            if self._server is not None:
                self._taken_down = self._server
                self._server.should_exit = True

    def stop(self) -> None:
        """Stop serving and responding; :meth:`run` returns."""
        self._stopping.set()
        self._wake.set()
        if self._server is not None:
            self._server.should_exit = True

    # --- waiting ------------------------------------------------------------------------

    def _on_event(self, event: Received) -> None:
        if event.type == "alert":
            data = event.data
            terminal_id, alert_id = data.get("terminal_id"), data.get("alert_id")
            if isinstance(terminal_id, str) and isinstance(alert_id, str):
                self.responder.on_alert(terminal_id, alert_id, data.get("kind"), self._clock())
        self.telephony.on_event(event.type, event.data, self._clock())
        self._notify()

    def _notify(self) -> None:
        # Wake every waiter; each re-checks its predicate and waits on the fresh event.
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_ready(self) -> None:
        """Return once the server listens."""
        await self._ready.wait()

    async def wait_for(self, predicate: Callable[[Sequence[Received]], bool]) -> None:
        """Return once ``predicate(events)`` holds; re-checked on every new event and every
        accept/resolve call or responder's answer that ended."""
        while not predicate(self.events):
            await self._changed.wait()

    # --- running ------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve webhooks and make the responder's calls until :meth:`stop`."""
        async with self._http, asyncio.TaskGroup() as tg:
            tg.create_task(self._serve(), name="http-server")
            helpers = []
            if self.responder.enabled:
                helpers.append(tg.create_task(self.responder.schedule(), name="responder"))
                helpers += [
                    tg.create_task(self.responder.work(), name=f"responder-call-{i}")
                    for i in range(self._options.workers)
                ]
            if self.telephony.enabled:
                helpers.append(tg.create_task(self.telephony.schedule(), name="telephony"))
                helpers += [
                    tg.create_task(self.telephony.work(), name=f"telephony-answer-{i}")
                    for i in range(self._options.workers)
                ]
            await self._stopping.wait()
            for task in helpers:
                task.cancel()

    async def _serve(self) -> None:
        while not self._stopping.is_set():
            await self._wait_while_down()
            if self._stopping.is_set():
                return
            server = uvicorn.Server(self._config())
            self._server = server
            sock = self._bind()
            self._ready.set()
            try:
                await server.serve(sockets=[sock])
            finally:
                self._server = None
                self._ready.clear()
                sock.close()
            if self._taken_down is not server and not self._stopping.is_set():
                # The server stopped by itself (a signal): stop everything.
                self.stop()
            self._taken_down = None

    async def _wait_while_down(self) -> None:
        while not self._stopping.is_set():
            setting = self.mode
            if setting.mode is not Mode.DOWN:
                return
            left = None if setting.until is None else max(0.0, setting.until - self._clock())
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self._wake.wait()

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self._options.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self._options.host, self._port))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        return sock

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            lifespan="off",
            ws="none",
            http="h11",
            server_header=False,
            timeout_graceful_shutdown=1,
        )
