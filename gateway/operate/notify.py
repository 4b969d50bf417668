"""systemd's readiness and watchdog protocol (``sd_notify``): datagrams to $NOTIFY_SOCKET.

``READY=1`` once the store is open and HTTP is served (a broker that is down is a
reason to retry, not to fail the start), ``STATUS=`` when the broker link is up,
``WATCHDOG=1`` at half the
unit's ``WatchdogSec`` for as long as the event loop runs (a loop that hangs stops
the pings and systemd restarts the process), ``STOPPING=1`` on the way out. Outside
systemd ($NOTIFY_SOCKET unset) every call does nothing.

Written by hand: the protocol is one datagram per message, and the PyPI clients for it
are unmaintained or need libsystemd's headers to build.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends ``sd_notify`` messages; see the module docstring."""

    def __init__(self, environ: Mapping[str, str] = os.environ) -> None:
        address = environ.get("NOTIFY_SOCKET", "")
        # A leading '@' names a socket in the abstract namespace.
        self._address = "\0" + address[1:] if address.startswith("@") else address
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        mine = not pid or pid == str(os.getpid())
        self.watchdog_s = int(usec) / 1e6 if usec.isdigit() and mine else None

    def notify(self, message: str) -> None:
        if not self._address:
            return
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            try:
                sock.sendto(message.encode(), self._address)
            except OSError as exc:  # systemd gone or the socket not ours: nothing to tell
                log.debug("sd_notify %r failed: %s", message, exc)

    async def run(self, serving: asyncio.Event, connected: asyncio.Event) -> None:
        """``READY=1`` once ``serving`` is set, then watchdog pings until cancelled."""
        await serving.wait()
        self.notify("READY=1\nSTATUS=serving; connecting to the broker")
        if self.watchdog_s is None:
            await connected.wait()
            self.notify("STATUS=serving; broker connected")
            return
        told = False
        while True:
            if connected.is_set() and not told:
                self.notify("STATUS=serving; broker connected")
                told = True
            self.notify("WATCHDOG=1")
            await asyncio.sleep(self.watchdog_s / 2)
