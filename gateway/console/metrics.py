"""Prometheus metrics of the console."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

ESCALATIONS = Counter(
    "gateway_console_escalations_total", "Alarms escalated, by level reached.", ["level"]
)
ESCALATION_ERRORS = Counter(
    "gateway_console_escalation_errors_total", "Escalation sweeps that failed."
)
LOGINS = Counter("gateway_console_logins_total", "Console login attempts by outcome.", ["outcome"])
FEED_VIEWERS = Gauge("gateway_console_feed_viewers", "Open live-feed connections.")
