"""One gateway process: every component, owned by one TaskGroup.

terminals ─MQTT─▶ BrokerLink ─▶ Intake (route → plan → store) ─▶ AckPublisher ─▶ terminals
                                          │ events + outbox rows, health reports (same commit)
                                          ▼
                          Forwarder(webhook) / Forwarder(upstream) ─▶ command center
                                          │ confirmed
                                          ▼
              Outbox.confirm (rows deleted + alert "delivered" + the health feed's cursor
              moved, one commit) ─▶ ack "delivered"
Supervisor (offline / restored / self-test) and the camera monitor add events too;
the HTTP server serves /healthz, /metrics, the API and the console.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from typing import Any

from gateway import metrics, tls
from gateway.cameras.scheduler import CameraMonitor
from gateway.cameras.wiring import camera_monitor, guarded_camera_routes
from gateway.config import GatewayConfig
from gateway.console.camera_views import MonitorViews
from gateway.console.context import open_console
from gateway.console.routes import console_routes
from gateway.core.events import Priority
from gateway.dispatch.wiring import dispatch_parts
from gateway.errors import ConfigError, RegistryError
from gateway.forward.forwarder import Forwarder, lanes
from gateway.forward.process import ForwardingProcess
from gateway.forward.upstream import UpstreamSink
from gateway.forward.webhook import WebhookSink
from gateway.forward.wiring import webhook_backoff, webhook_client, webhook_forwarder
from gateway.http.auth import TokenAuth
from gateway.http.health import Check, Health, backlog_check, link_check, store_check
from gateway.http.server import bind, build_app, serve
from gateway.intake.acks import AckPublisher, AckResender
from gateway.intake.link import BrokerLink
from gateway.intake.pipeline import Intake
from gateway.operate.notify import Notifier
from gateway.operate.reload import RegistryReloader
from gateway.operations import Operations
from gateway.registry import Registry, RegistryHolder
from gateway.store.alerts import AlertStore
from gateway.store.audit import AuditLog
from gateway.store.db import Checkpointer, Database, open_database
from gateway.store.direct import BUSY_POLL_S
from gateway.store.events import StoredEvents
from gateway.store.outbox import Outbox
from gateway.store.quarantine import Quarantine
from gateway.store.retention import Retention
from gateway.supervisor import Supervisor
from gateway.zones import Downlinks, check_zones

log = logging.getLogger(__name__)

METRICS_REFRESH_S = 5.0


class Gateway:
    """Build with a validated config and registry; ``await run()`` until cancelled."""

    def __init__(
        self,
        cfg: GatewayConfig,
        registry: Registry,
        environ: Mapping[str, str] = os.environ,
        clock: Callable[[], float] = time.time,
        after_registry_swap: Callable[[], None] = lambda: None,
    ) -> None:
        self.cfg = cfg
        #: Every component reads the registry through this holder; a reload swaps it.
        self.registry = RegistryHolder(registry)
        self.reloader = RegistryReloader(
            self.registry, cfg.registry.path, site_district=cfg.site.district,
            check=self._check_reload, on_swapped=lambda: self._swapped(after_registry_swap),
        )  # fmt: skip
        self.notifier = Notifier(environ)
        self._environ = environ
        self._clock = clock
        self._forwarders: list[Forwarder] = []
        #: The webhook forwarder's own process (``webhook.own_process``), once running.
        self.forwarding: ForwardingProcess | None = None
        self.ready = asyncio.Event()  # connected to the broker: alarms are taken
        self.serving = asyncio.Event()  # store open, HTTP served
        self.db: Database | None = None
        self.http_port: int | None = None
        check_site(cfg, registry)
        self.link = BrokerLink(
            cfg.mqtt, cfg.intake, self._handle,
            tls_context=tls.optional_context(cfg.mqtt.tls, "mqtt.tls"),
            broker_name="district" if cfg.mqtt.bridged else "site",
            zones=sorted({t.zone for t in registry.values() if t.zone is not None}),
        )  # fmt: skip
        self._zones = {t.zone for t in registry.values() if t.zone is not None}
        self.downlinks = Downlinks(self.registry, cfg.mqtt.bridged)
        self._upstream_tls = tls.optional_context(cfg.upstream.tls, "upstream.tls")
        self._webhook_tls = tls.client_context(cfg.webhook.tls, "webhook.tls")
        self._intake: Intake | None = None
        self.cameras: CameraMonitor | None = None
        #: Woken by new alarms only (the dispatcher starts their call sequences).
        self._alarm_wakers: list[Callable[[], None]] = []

    def _swapped(self, then: Callable[[], None]) -> None:
        if self.forwarding is not None:
            self.forwarding.registry_swapped()
        then()

    def _check_reload(self, registry: Registry) -> None:
        """A reloaded registry must suit the running links: the gateway has one session
        per town broker, made at start, so a new town needs a restart."""
        try:
            check_site(self.cfg, registry)
        except ConfigError as exc:
            raise RegistryError(str(exc)) from exc
        new = {t.zone for t in registry.values() if t.zone is not None} - self._zones
        if new:
            raise RegistryError(
                f"new zones {', '.join(sorted(new))}: provision their brokers, then restart"
                " the gateway (a reload cannot add a town)"
            )

    @property
    def sinks(self) -> list[str]:
        names = []
        if self.cfg.webhook.enabled:
            names.append(WebhookSink.name)
        if self.cfg.upstream.enabled:
            names.append(UpstreamSink.name)
        return names

    def wake(self, priority: int | None = None) -> None:
        """New events were committed (``priority``: the most urgent of them, if known)."""
        for forwarder in self._forwarders:
            forwarder.wake(priority)
        if self.forwarding is not None:
            self.forwarding.wake(priority)
        if priority is None or priority <= Priority.ALERT:
            for waker in self._alarm_wakers:
                waker()

    async def _handle(self, raws: Any) -> None:
        assert self._intake is not None  # set before the link runs
        await self._intake.handle(raws)

    async def run(self) -> None:
        cfg = self.cfg
        token_auth = TokenAuth(cfg.api.tokens, self._environ)
        sock = bind(cfg.http.host, cfg.http.port)
        self.http_port = sock.getsockname()[1]
        async with (
            # The file may be shared: with the forwarding process, other gateways, the CLI.
            open_database(
                cfg.store.path,
                cfg.store.synchronous,
                background_checkpoints=True,
                busy_poll_s=BUSY_POLL_S,
            ) as db,
            AsyncExitStack() as stack,
        ):
            self.db = db
            outbox = Outbox(db, regions=self.registry.region_of)
            await outbox.release_own_leases()
            await outbox.open_feeds(self.sinks)
            alerts = AlertStore(db, self.sinks)
            acks = AckPublisher(
                self.link.wait_connected, cfg.intake.ack_queue_max, alerts.mark_acked,
                self.downlinks,
            )  # fmt: skip
            resender = AckResender(alerts.unacked, acks, clock=self._clock)
            ops = Operations(
                alerts, AuditLog(db), acks, self.link.wait_connected, self.wake, self._clock,
                self.downlinks,
            )  # fmt: skip
            dispatch = dispatch_parts(
                cfg.dispatch, alerts, self.registry, ops.audit, acks, self.wake,
                cfg.console.escalation_rules(), self._clock,
            )  # fmt: skip
            if dispatch.dispatcher is not None:
                self._alarm_wakers.append(dispatch.dispatcher.wake)
            self._intake = Intake(
                self.registry, cfg.rules, db, self.sinks, acks, self.wake, self._clock,
                bridged=cfg.mqtt.bridged,
            )  # fmt: skip
            upstream = (
                UpstreamSink(cfg.upstream, self._upstream_tls) if cfg.upstream.enabled else None
            )
            await self._intake.prepare()
            await self._build_forwarders(outbox, acks, upstream, stack)
            supervisor = Supervisor(
                db, self.registry, cfg.supervision, self.sinks, self.wake, self._clock
            )
            events = StoredEvents(db, self.sinks, self.wake, self._clock)
            cameras = None
            if cfg.cameras.enabled and cfg.cameras.facilities:
                cameras = await stack.enter_async_context(camera_monitor(cfg.cameras, events))
                self.cameras = cameras
            console = None
            if cfg.console.enabled:
                console = await open_console(
                    db, self.registry, ops, cfg.console, site_name=cfg.site.name,
                    default_language=cfg.site.language,
                    cameras=MonitorViews(cameras) if cameras else None,
                    environ=self._environ, clock=self._clock,
                    dispatch=dispatch.desk, dispatch_config=cfg.dispatch,
                    sinks=self.sinks, on_new_events=self.wake,
                )  # fmt: skip
            app = build_app(
                {
                    "operations": ops, "registry": self.registry, "outbox": outbox,
                    "dispatch": dispatch.desk, "dispatch_config": cfg.dispatch,
                    "quarantine": Quarantine(db),
                    "clock": self._clock, "wake": self.wake, "reloader": self.reloader,
                    "authenticators": [token_auth, *([console.auth] if console else [])],
                    "health_checks": self._health_checks(outbox, upstream),
                },
                [*(guarded_camera_routes(cameras) if cameras else []),
                 *(console_routes(console) if console else [])],
            )  # fmt: skip
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self.link.run(), name="broker-link")
                tg.create_task(acks.run(), name="ack-publisher")
                tg.create_task(resender.run(), name="ack-resender")
                for forwarder in self._forwarders:
                    tg.create_task(forwarder.run(), name=f"forwarder-{forwarder.sink_name}")
                if self.forwarding is not None:
                    tg.create_task(self.forwarding.run(), name="forwarding-process")
                if upstream is not None:
                    tg.create_task(upstream.run(), name="upstream-link")
                tg.create_task(supervisor.run(), name="supervisor")
                retention = Retention(db, cfg.store, self._clock, self.sinks)
                tg.create_task(retention.run(), name="retention")
                tg.create_task(serve(app, sock), name="http")
                tg.create_task(self._refresh_metrics(outbox), name="metrics")
                tg.create_task(watch_loop_lag(), name="loop-lag")
                tg.create_task(Checkpointer(db).run(), name="checkpointer")
                tg.create_task(self._announce_ready(), name="ready")
                tg.create_task(self.reloader.run(), name="registry-reload")
                tg.create_task(self.notifier.run(self.serving, self.ready), name="systemd-notify")
                if cameras is not None:
                    tg.create_task(cameras.run(), name="camera-monitor")
                if console is not None:
                    tg.create_task(console.escalator().run(), name="escalator")
                if dispatch.dispatcher is not None:
                    tg.create_task(dispatch.dispatcher.run(), name="dispatcher")
                self.serving.set()

    def _health_checks(self, outbox: Outbox, upstream: UpstreamSink | None) -> dict[str, Check]:
        checks = {
            "broker": link_check(self.link.state),
            "store": store_check(outbox, self.cfg.store.path),
            "outbox": backlog_check(
                outbox, self.sinks, self.cfg.http.health_backlog_age_s, self._clock
            ),
        }
        if upstream is not None:
            checks["upstream"] = link_check(upstream.state)
        forwarding = self.forwarding
        if forwarding is not None:
            checks["forwarding"] = lambda: Health(forwarding.pid is not None, forwarding.state())
        return checks

    async def _build_forwarders(
        self, outbox: Outbox, acks: AckPublisher, upstream: UpstreamSink | None,
        stack: AsyncExitStack,
    ) -> None:  # fmt: skip
        wh, up = self.cfg.webhook, self.cfg.upstream
        if wh.enabled and wh.own_process:  # it has its own HTTP client
            self.forwarding = ForwardingProcess(self.cfg, acks, self._environ)
        elif wh.enabled:
            http = await webhook_client(wh, self._webhook_tls, stack)
            self._forwarders.append(webhook_forwarder(wh, outbox, acks, http, self._clock))
        if upstream is not None:
            # The upstream confirms delivery to the terminal only when it is the sole sink.
            plan = lanes(up.concurrency, 1, up.batch_max, wh.linger_s)
            self._forwarders.append(
                Forwarder(upstream, outbox, acks=acks, confirms_terminals=not wh.enabled,
                          lease_s=up.timeout_s * 3, retry_for_s=wh.retry_for_h * 3600,
                          backoff=webhook_backoff(wh), lanes=plan, clock=self._clock)
            )  # fmt: skip

    async def _announce_ready(self) -> None:
        await self.link.wait_all()
        self.ready.set()
        log.info("gateway ready: http on %s:%s", self.cfg.http.host, self.http_port)

    async def _refresh_metrics(self, outbox: Outbox) -> None:
        while True:
            counts = await outbox.counts()
            for sink in self.sinks:
                metrics.OUTBOX.labels(sink, "pending").set(counts.get((sink, False), 0))
                metrics.OUTBOX.labels(sink, "dead").set(counts.get((sink, True), 0))
            await asyncio.sleep(METRICS_REFRESH_S)


async def watch_loop_lag(interval_s: float = 0.1) -> None:
    """Sleep ``interval_s`` over and over and record how late each wake-up is."""
    loop = asyncio.get_running_loop()
    while True:
        start = loop.time()
        await asyncio.sleep(interval_s)
        metrics.LOOP_LAG.observe(max(0.0, loop.time() - start - interval_s))


def check_site(cfg: GatewayConfig, registry: Registry) -> None:
    """What must hold between the config and the registry before anything starts."""
    check_zones(registry.values(), cfg.mqtt.bridged)
    if cfg.mqtt.client_id in registry:
        # A terminal's client id is its terminal id: it could take the gateway's session.
        raise ConfigError(f"mqtt.client_id: {cfg.mqtt.client_id!r} is also a terminal id")
