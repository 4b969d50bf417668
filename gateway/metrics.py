"""Prometheus metrics of the alarm path (camera metrics live in gateway.cameras.metrics).

Defined once, at import, on the default registry; names follow Prometheus conventions.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

MESSAGES = Counter("gateway_messages_total", "Uplink messages accepted, by channel.", ["channel"])
REJECTED = Counter(
    "gateway_rejected_messages_total", "Uplink messages rejected, by reason.", ["reason"]
)
SHED = Counter(
    "gateway_shed_messages_total", "Messages dropped from a full in-memory queue.", ["queue"]
)
ALERTS = Counter(
    "gateway_alerts_total", "New alerts stored, by kind and origin.", ["kind", "origin"]
)
DUPLICATES = Counter("gateway_duplicate_alerts_total", "Retransmitted alerts answered again.")
ACKS = Counter("gateway_acks_total", "Acks published to terminals, by stage.", ["stage"])
ACK_FAILURES = Counter("gateway_ack_failures_total", "Acks that could not be published.")
BATCH_SECONDS = Histogram(
    "gateway_intake_batch_seconds",
    "Time to store one intake batch (one transaction).",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
BATCH_SIZE = Histogram(
    "gateway_intake_batch_messages",
    "Messages per intake batch.",
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000),
)
DELIVERIES = Counter(
    "gateway_deliveries_total", "Delivery attempts by sink and outcome.", ["sink", "outcome"]
)
DELIVERY_SECONDS = Histogram(
    "gateway_delivery_seconds",
    "Time from event creation to confirmed delivery.",
    ["sink"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600),
)
OUTBOX = Gauge("gateway_outbox_rows", "Rows waiting in the outbox.", ["sink", "state"])
MQTT_CONNECTED = Gauge("gateway_mqtt_connected", "1 while connected to the broker.", ["link"])
MQTT_RECONNECTS = Counter("gateway_mqtt_reconnects_total", "Broker connection losses.", ["link"])
TERMINAL_EVENTS = Counter(
    "gateway_terminal_events_total", "Supervision events raised, by type.", ["type"]
)
TERMINALS_OFFLINE = Gauge("gateway_terminals_offline", "Terminals currently declared offline.")
ALERT_STAGE_SECONDS = Histogram(
    "gateway_alert_stage_seconds",
    "Time from an alarm's receipt to each later stage (delivered, accepted, resolved), by kind.",
    ["kind", "stage"],
    buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800, 3600, 7200, 21600),
)
