"""Simulated elder terminals: up to ~19,000 MQTT connections per process, scripted or
scenario-driven, each connecting to the broker its credentials name.

The importable API is :class:`Fleet`; the command line is ``python -m device_sim terminals``.
"""

from device_sim.terminals.backoff import Backoff, FixedDelays, RetrySchedule
from device_sim.terminals.credentials import Credential, load_credentials
from device_sim.terminals.fleet import Fleet, FleetObserver
from device_sim.terminals.malformed import Malformed
from device_sim.terminals.options import Broker, Endpoint, FleetOptions, parse_broker_url
from device_sim.terminals.scenario import Scenario
from device_sim.terminals.summary import Snapshot, Summary
from device_sim.terminals.tracker import AlertRecord

__all__ = [
    "AlertRecord",
    "Backoff",
    "Broker",
    "Credential",
    "Endpoint",
    "FixedDelays",
    "Fleet",
    "FleetObserver",
    "FleetOptions",
    "Malformed",
    "RetrySchedule",
    "Scenario",
    "Snapshot",
    "Summary",
    "load_credentials",
    "parse_broker_url",
]
