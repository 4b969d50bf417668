"""Prometheus metrics of dispatch (stage-time histograms live in gateway.metrics)."""

from __future__ import annotations

from prometheus_client import Counter

SEQUENCES = Counter("gateway_dispatch_sequences_total", "Responder call sequences started.")
ATTEMPTS = Counter(
    "gateway_dispatch_attempts_total", "Responder calls that ended, by outcome.", ["outcome"]
)
ANSWERS = Counter(
    "gateway_dispatch_answers_total", "Responder answers received, by result.", ["result"]
)
SWEEP_ERRORS = Counter("gateway_dispatch_sweep_errors_total", "Dispatch sweeps that failed.")
