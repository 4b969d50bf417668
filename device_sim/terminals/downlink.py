"""What a terminal does with what the gateway sends: ``ack`` updates the alert's stage,
``cmd`` changes its configuration or asks it to call back (recorded)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from device_sim.terminals.summary import Counters
from device_sim.terminals.tracker import AckOutcome, AlertBook
from firmware_protocol.codec import decode_ack, decode_command
from firmware_protocol.errors import ProtocolError
from firmware_protocol.messages import Command, CommandName
from firmware_protocol.topics import Channel, parse_topic

log = logging.getLogger(__name__)

#: ``config`` argument names for the status interval, in seconds.
STATUS_INTERVAL_KEYS = ("status_interval_s", "status_interval")
STATUS_INTERVAL_RANGE = (1.0, 86_400.0)


@dataclass(frozen=True, slots=True)
class CallBack:
    """A ``call_back`` command as the terminal received it."""

    terminal_id: str
    cmd_id: str
    at: float
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reconfigure:
    """A ``config`` command asked for a new status interval."""

    status_interval_s: float


def _status_interval(args: dict[str, Any]) -> float | None:
    for key in STATUS_INTERVAL_KEYS:
        value = args.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            low, high = STATUS_INTERVAL_RANGE
            if low <= value <= high:
                return float(value)
    return None


class Downlink:
    """Applies downlink messages to the fleet's alert book and counters."""

    def __init__(self, book: AlertBook, counters: Counters) -> None:
        self._book = book
        self._counters = counters
        self.callbacks: list[CallBack] = []

    def handle(
        self, terminal_id: str, topic: str, payload: bytes, now: float
    ) -> Reconfigure | None:
        """Handle one message; a reconfiguration is returned for the caller to apply."""
        try:
            _, channel = parse_topic(topic)
            if channel is Channel.ACK:
                ack = decode_ack(payload)
                outcome = self._book.on_ack(terminal_id, ack.alert_id, ack.stage, now, ack.ts)
                self._counters.acks[outcome.value] += 1
                if outcome is AckOutcome.UNKNOWN:
                    log.debug("terminal %s: ack for unknown alert %s", terminal_id, ack.alert_id)
                return None
            if channel is Channel.CMD:
                return self._command(terminal_id, decode_command(payload), now)
        except ProtocolError as exc:
            self._counters.bad_downlink += 1
            log.warning("terminal %s: bad downlink on %s: %s", terminal_id, topic, exc)
            return None
        self._counters.bad_downlink += 1
        log.warning("terminal %s: unexpected message on %s", terminal_id, topic)
        return None

    def _command(self, terminal_id: str, command: Command, now: float) -> Reconfigure | None:
        self._counters.commands[command.cmd.value] += 1
        if command.cmd is CommandName.CALL_BACK:
            self.callbacks.append(CallBack(terminal_id, command.cmd_id, now, dict(command.args)))
            return None
        interval = _status_interval(command.args)
        if interval is None:
            log.warning(
                "terminal %s: config %s without a usable status interval: %s",
                terminal_id,
                command.cmd_id,
                command.args,
            )
            return None
        return Reconfigure(interval)
