"""Building the dispatch desk and its worker for one gateway process."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from gateway.core.escalation import EscalationRule
from gateway.dispatch.config import DispatchConfig
from gateway.dispatch.desk import DispatchDesk, Stores
from gateway.dispatch.worker import Dispatcher
from gateway.intake.pipeline import AckSink
from gateway.registry import Terminal
from gateway.store.alerts import AlertStore
from gateway.store.audit import AuditLog
from gateway.store.dispatch import SequenceStore
from gateway.store.elders import ElderStore
from gateway.store.services import ServiceStore


@dataclass(frozen=True, slots=True)
class DispatchParts:
    """The desk (for the API and the console) and, when enabled, the worker to run."""

    desk: DispatchDesk
    dispatcher: Dispatcher | None


def dispatch_parts(
    cfg: DispatchConfig, alerts: AlertStore, registry: Mapping[str, Terminal], audit: AuditLog,
    acks: AckSink, on_new_events: Callable[[], None], rules: Sequence[EscalationRule] = (),
    clock: Callable[[], float] = time.time,
) -> DispatchParts:  # fmt: skip
    stores = Stores(
        SequenceStore(alerts, registry, cfg.policy(), rules),
        ServiceStore(alerts, registry, frozenset(cfg.service_kinds)),
        ElderStore(alerts.db),
        audit,
    )
    desk = DispatchDesk(stores, acks, on_new_events, clock)
    dispatcher = None
    if cfg.enabled:
        dispatcher = Dispatcher(
            desk, cfg.alarm_kinds, cfg.sweep_interval_s, cfg.start_window_s, clock
        )
    return DispatchParts(desk, dispatcher)
