"""Real stores on a temporary SQLite file, a small registry, fakes for the broker side."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from firmware_protocol.messages import Alert, AlertKind, Health, Status, TerminalState, Vitals
from gateway.config import RulesConfig
from gateway.console.accounts import Passwords
from gateway.console.camera_views import CameraViews
from gateway.console.config import ConsoleConfig
from gateway.console.context import Console, open_console
from gateway.console.routes import console_routes
from gateway.core.intake import plan_intake
from gateway.dispatch.config import DispatchConfig
from gateway.dispatch.desk import DispatchDesk
from gateway.dispatch.wiring import dispatch_parts
from gateway.http.server import build_app
from gateway.operations import Operations
from gateway.registry import Registry, Terminal
from gateway.store.alerts import AlertStore
from gateway.store.audit import AuditLog
from gateway.store.db import Database, open_database
from gateway.store.intake import IntakeResult, StageUpdate, apply_plan
from gateway.store.outbox import Outbox
from gateway.store.quarantine import Quarantine

ADMIN_PASSWORD = "correct horse battery"
PASSWORD = "operator password 1"
DONGCUN = ("Binjiang", "Changan", "Dongcun")
XICUN = ("Binjiang", "Changan", "Xicun")
NANCUN = ("Binjiang", "Puyan", "Nancun")
#: Cheap argon2 parameters: tests log in often; the product keeps the library defaults.
FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))

REGISTRY = Registry(
    [
        Terminal("T001", "王秀英", DONGCUN, "13800000001"),
        Terminal("T002", "李桂兰", DONGCUN, "13800000002"),
        Terminal("T003", "张建国", XICUN, "13800000003"),
        Terminal("T004", "刘淑珍", XICUN, ""),
        Terminal("T005", "陈志强", NANCUN, "13800000005"),
        Terminal("T006", "杨玉梅", NANCUN, "13800000006"),
    ]
)


class FakeAcks:
    """Records what would be told to terminals."""

    def __init__(self) -> None:
        self.updates: list[StageUpdate] = []

    async def submit(self, updates: Sequence[StageUpdate]) -> None:
        self.updates.extend(updates)


class FakeMqtt:
    """Records downlink publishes (call-back commands)."""

    def __init__(self) -> None:
        self.published: list[tuple[str, bytes]] = []

    async def publish(self, topic: str, payload: bytes, qos: int = 0) -> None:
        self.published.append((topic, payload))


@dataclass
class Site:
    db: Database
    console: Console
    app: Starlette
    acks: FakeAcks
    mqtt: FakeMqtt
    woken: list[float] = field(default_factory=list)
    registry: Registry = field(default_factory=lambda: REGISTRY)
    desk: DispatchDesk | None = None


async def press(
    db: Database, terminal_id: str, alert_id: str, kind: AlertKind = AlertKind.EMERGENCY,
    now: float | None = None, registry: Registry = REGISTRY,
) -> IntakeResult:  # fmt: skip
    """Store an alert exactly as the intake pipeline would."""
    now = time.time() if now is None else now
    message = Alert(terminal_id, alert_id, kind, now - 1)
    return await apply_plan(db, plan_intake([message], registry, RulesConfig(), now), [], now)


async def report(db: Database, terminal_id: str, report_id: str, at: float, **vitals: Any) -> None:
    message = Health(terminal_id, report_id, at, Vitals(**vitals))
    await apply_plan(db, plan_intake([message], REGISTRY, RulesConfig(), at), [], at)


async def status(db: Database, terminal_id: str, state: TerminalState, at: float) -> None:
    message = Status(terminal_id, state, at)
    await apply_plan(db, plan_intake([message], REGISTRY, RulesConfig(), at), [], at)


@asynccontextmanager
async def site(
    path: Path, config: ConsoleConfig | None = None, *, language: str = "en",
    cameras: CameraViews | None = None, clock: Callable[[], float] = time.time,
    extra_routes: Sequence[BaseRoute] = (), dispatch: DispatchConfig | None = None,
) -> AsyncIterator[Site]:  # fmt: skip
    """The gateway's HTTP app with the console, over real stores and fake broker parts."""
    async with open_database(path / "gateway.db", "NORMAL") as db:
        acks, mqtt = FakeAcks(), FakeMqtt()

        async def client() -> Any:
            return mqtt

        woken: list[float] = []
        ops = Operations(
            AlertStore(db, []), AuditLog(db), acks, client, lambda: woken.append(clock()), clock
        )
        cfg = config or ConsoleConfig()
        dispatch = dispatch or DispatchConfig()
        parts = dispatch_parts(
            dispatch, ops.alerts, REGISTRY, ops.audit, acks, lambda: woken.append(clock()),
            cfg.escalation_rules(), clock,
        )  # fmt: skip
        console = await open_console(
            db, REGISTRY, ops, cfg, site_name="Binjiang",
            default_language=language, cameras=cameras, clock=clock,
            environ={"GATEWAY_CONSOLE_ADMIN_PASSWORD": ADMIN_PASSWORD}, passwords=FAST_PASSWORDS,
            dispatch=parts.desk, dispatch_config=dispatch,
        )  # fmt: skip
        state = {
            "operations": ops, "registry": REGISTRY, "outbox": Outbox(db), "clock": clock,
        "quarantine": Quarantine(db),
            "wake": lambda: None, "authenticators": [console.auth], "health_checks": {},
            "dispatch": parts.desk, "dispatch_config": dispatch,
        }  # fmt: skip
        app = build_app(state, [*console_routes(console), *extra_routes])
        yield Site(db, console, app, acks, mqtt, woken=woken, desk=parts.desk)
