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
WAL_FRAMES = Gauge(
    "gateway_store_wal_frames", "Frames in the database's write-ahead log at the last checkpoint."
)
LOOP_LAG = Histogram(
    "gateway_event_loop_lag_seconds",
    "How late the event loop woke a task that slept 0.1 s: time every message, ack and"
    " delivery waits for the loop to be free.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
GC_PAUSE_SECONDS = Histogram(
    "gateway_gc_pause_seconds",
    "How long one collection of Python's cyclic garbage collector held the event loop,"
    " by generation (2: a full collection).",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
ACK_SECONDS = Histogram(
    "gateway_ack_seconds",
    "Time from a stage's commit (its ack queued) until the broker accepted the ack (PUBACK),"
    " by stage.",
    ["stage"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
#: Fine buckets: these two split an alarm's way to ``received`` (with ``ACK_SECONDS``).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.35,
                   0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0)  # fmt: skip
ALERT_AGE_SECONDS = Histogram(
    "gateway_alert_age_seconds",
    "Age of an alert (from the terminal's ts, its press) when its intake batch begins:"
    " the terminal's uplink, the brokers and the intake queue. Assumes the terminals'"
    " clocks are set (NTP); a terminal's retransmission keeps its ts.",
    buckets=LATENCY_BUCKETS,
)
ALERT_WAIT_SECONDS = Histogram(
    "gateway_alert_wait_seconds",
    "Time an alert waited in the gateway's intake queue (received off the socket → taken"
    " into an intake batch).",
    buckets=LATENCY_BUCKETS,
)
LOCK_WAIT_SECONDS = Histogram(
    "gateway_store_lock_wait_seconds",
    "Time a transaction waited for the database's write lock, by transaction.",
    ["txn"],
    buckets=LATENCY_BUCKETS,
)
LOCK_HELD_SECONDS = Histogram(
    "gateway_store_lock_held_seconds",
    "Time a transaction held the database's write lock (BEGIN to COMMIT), by transaction.",
    ["txn"],
    buckets=LATENCY_BUCKETS,
)
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
    "gateway_deliveries_total",
    "Events handed to a sink, by outcome (ok, retry, rejected, dead, error).",
    ["sink", "outcome"],
)
DELIVERY_BATCH = Histogram(
    "gateway_delivery_batch_events",
    "Events per delivery (one webhook request, or one batch of MQTT publishes).",
    ["sink"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000),
)
DELIVERY_SECONDS = Histogram(
    "gateway_delivery_seconds",
    "Time from event creation to confirmed delivery.",
    ["sink"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300, 3600),
)
INTAKE_FAILURES = Counter(
    "gateway_intake_failed_batches_total",
    "Intake batches that raised and were taken apart message by message.",
)
QUARANTINED = Counter(
    "gateway_quarantined_messages_total",
    "Messages set aside because intake failed on them (new), or dropped on sight as a"
    " repeat of one (repeat).",
    ["kind"],
)
RETENTION_ROWS = Counter(
    "gateway_retention_rows_total",
    "Rows folded (health reports) or dropped (summaries, events) by retention, by table.",
    ["table"],
)
OUTBOX = Gauge(
    "gateway_outbox_rows",
    "Deliveries waiting: outbox rows, and health reports past the sink's feed cursor.",
    ["sink", "state"],
)
MQTT_CONNECTED = Gauge("gateway_mqtt_connected", "1 while connected to the broker.", ["link"])
MQTT_RECONNECTS = Counter("gateway_mqtt_reconnects_total", "Broker connection losses.", ["link"])
TERMINAL_EVENTS = Counter(
    "gateway_terminal_events_total", "Supervision events raised, by type.", ["type"]
)
TERMINALS_OFFLINE = Gauge("gateway_terminals_offline", "Terminals currently declared offline.")
REGISTRY_TERMINALS = Gauge("gateway_registry_terminals", "Terminals in the registry in force.")
REGISTRY_RELOADS = Counter(
    "gateway_registry_reloads_total", "Registry reloads by outcome.", ["outcome"]
)
STORE_ERRORS = Counter(
    "gateway_store_errors_total",
    "Database operations that failed, by kind (full, read_only, other).",
    ["kind"],
)
MQTT_CONNECT_FAILURES = Counter(
    "gateway_mqtt_connect_failures_total",
    "Failed connection attempts by link and reason (not_authorized, refused, unreachable).",
    ["link", "reason"],
)
TLS_FAILURES = Counter(
    "gateway_tls_failures_total",
    "Connections refused because the server's certificate failed verification, by link.",
    ["link"],
)
BROKER_DROPPED = Gauge(
    "gateway_broker_dropped_messages",
    "Messages the broker dropped for full client queues since it started ($SYS), by broker.",
    ["broker"],
)
BRIDGE_UP = Gauge(
    "gateway_bridge_up", "1 while a town broker's bridge to the district broker is up.", ["zone"]
)
ALERT_STAGE_SECONDS = Histogram(
    "gateway_alert_stage_seconds",
    "Time from an alarm's receipt to each later stage (delivered, accepted, resolved), by kind.",
    ["kind", "stage"],
    buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800, 3600, 7200, 21600),
)
