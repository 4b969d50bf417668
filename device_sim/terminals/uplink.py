"""Publishing a terminal's messages: written to its connection at once, acked by PUBACK.

There is no queue between the scheduler and the sockets: a publish is a write into the
connection's buffer, and the broker's PUBACK (not the write) counts the message as sent.
What cannot be written is counted, never retried here: an alert stays pending and goes
out again with its next retransmission or after the reconnect.
"""

from __future__ import annotations

import logging

from device_sim.terminals.terminal import Publication, Terminal
from firmware_protocol.mqtt import State

log = logging.getLogger(__name__)


class UplinkStats:
    """Counts of publications that did not go out, or did not get their PUBACK."""

    __slots__ = ("dropped", "failed", "in_flight", "skipped_offline")

    def __init__(self) -> None:
        self.in_flight = 0  # written, PUBACK not yet in
        self.dropped = 0  # the connection's write buffer was full
        self.failed = 0  # connection closed before the PUBACK, or refused (MQTT 5)
        self.skipped_offline = 0  # no connection at that moment


class Uplink:
    """Writes publications to the terminals' connections."""

    def __init__(self) -> None:
        self.stats = UplinkStats()

    def put(self, terminal: Terminal, publication: Publication) -> bool:
        """Publish at QoS 1; False (and counted) when it could not be written."""
        conn = terminal.conn
        if conn is None:
            self.stats.skipped_offline += 1
            return False
        topic = terminal.topic(publication.channel)
        if conn.publish(topic, publication.payload, retain=publication.retain, token=publication):
            self.stats.in_flight += 1
            return True
        if conn.state is State.OPEN:
            if not self.stats.dropped:
                log.warning("terminal %s: write buffer full: dropping publications", terminal.id)
            self.stats.dropped += 1
        else:
            self.stats.skipped_offline += 1
        return False
