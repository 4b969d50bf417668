"""The health of one MQTT link (terminal broker, upstream broker), for logs, metrics
and ``/healthz``.

A link that cannot connect retries with backoff for as long as the gateway runs; this
records why it is down, counts each failed attempt by reason and logs a reason once —
not once per attempt — until the link is up again. A broker that refuses the gateway's
password (``not_authorized``) is logged as an error: retrying will not help until the
broker's accounts are fixed (``python -m gateway reload``), and then the link resumes
by itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiomqtt.exceptions import MqttConnectError

from firmware_protocol.mqtt import ConnectFailed, ConnectRefused
from gateway import metrics
from gateway.tls import certificate_problem

log = logging.getLogger(__name__)

#: CONNACK codes that mean "wrong user name or password" / "not authorised"
#: (MQTT 3.1.1: 4, 5; MQTT 5: 0x86, 0x87).
REFUSED_CREDENTIALS = frozenset({4, 5, 0x86, 0x87})


def reason_of(exc: BaseException) -> str:
    """``not_authorized``, ``refused`` (another CONNACK code), ``certificate`` (the
    server's TLS certificate failed verification), ``unreachable`` or ``lost``."""
    if certificate_problem(exc) is not None:
        return "certificate"
    if isinstance(exc, ConnectRefused):
        return "not_authorized" if exc.code in REFUSED_CREDENTIALS else "refused"
    if isinstance(exc, MqttConnectError):
        code = getattr(exc.rc, "value", exc.rc)
        return "not_authorized" if code in REFUSED_CREDENTIALS else "refused"
    if isinstance(exc, ConnectFailed):
        return "unreachable"
    text = str(exc).lower()
    if "connect call failed" in text or "refused" in text or "timed out" in text:
        return "unreachable"
    return "lost"


class LinkState:
    """``up()`` when connected, ``down(exc)`` when an attempt failed or the link dropped."""

    def __init__(self, name: str, peer: str, clock: Callable[[], float] = time.time) -> None:
        self.name = name
        self.peer = peer
        self._clock = clock
        self.connected = False
        self.reason = "connecting"
        self.since = clock()
        self._logged: str | None = None

    def up(self) -> None:
        if self._logged is not None:
            log.info("%s link to %s is up again", self.name, self.peer)
        self.connected, self.reason, self.since, self._logged = True, "", self._clock(), None
        metrics.MQTT_CONNECTED.labels(self.name).set(1)

    def down(self, exc: BaseException) -> None:
        reason = reason_of(exc)
        if self.connected:
            metrics.MQTT_RECONNECTS.labels(self.name).inc()
            self.since = self._clock()
        else:
            metrics.MQTT_CONNECT_FAILURES.labels(self.name, reason).inc()
        self.connected, self.reason = False, reason
        metrics.MQTT_CONNECTED.labels(self.name).set(0)
        if reason == self._logged:
            return
        self._logged = reason
        if reason == "not_authorized":
            log.error(
                "%s broker %s refuses the gateway's user name or password (%s); retrying"
                " quietly until its accounts are fixed", self.name, self.peer, exc,
            )  # fmt: skip
        else:
            log.warning(
                "%s broker %s: %s (%s); retrying quietly", self.name, self.peer, reason, exc
            )

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.connected, "peer": self.peer, "reason": self.reason,
                "since": self.since}  # fmt: skip
