"""A measurement site for ``bench/terminal_cost.py``: N terminal accounts over M Mosquittos.

Each broker holds at most ``per_broker`` terminals (a process may hold only 20,000 open
files), with one account per terminal, the protocol's ACL, and an ``acker`` account that
plays the gateway. The credentials sheet carries each terminal's broker URL (third
column). Passwords are hashed here in Mosquitto's own format (``$7$``: PBKDF2-SHA512,
101 iterations, 12-byte salt), which ``mosquitto_passwd -U`` would take minutes for.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pwd
import secrets
from dataclasses import dataclass
from pathlib import Path

from device_sim.procs import free_port

ACKER = "acker"
ITERATIONS = 101


def mosquitto_hash(password: str) -> str:
    """A ``password_file`` entry's hash, as ``mosquitto_passwd`` writes it."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
    return f"$7${ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


@dataclass(frozen=True, slots=True)
class BrokerSite:
    """One broker's port and configuration file."""

    port: int
    conf: Path


@dataclass(frozen=True, slots=True)
class TerminalSite:
    """Brokers, the credentials sheet and the acker's password."""

    root: Path
    brokers: list[BrokerSite]
    sheet: Path
    acker_password: str
    terminals: int


def _conf(directory: Path, port: int) -> str:
    return (
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {directory / 'passwd'}\n"
        f"acl_file {directory / 'acl'}\n"
        "persistence false\n"
        "max_keepalive 65535\n"
        f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
        "log_dest stderr\n"
        "log_type error\n"
        "log_type warning\n"
    )


ACL = (
    "pattern write ec/v1/t/%u/alert\npattern write ec/v1/t/%u/health\n"
    "pattern write ec/v1/t/%u/status\npattern read ec/v1/t/%u/ack\n"
    "pattern read ec/v1/t/%u/cmd\n\n"
    f"user {ACKER}\ntopic readwrite ec/v1/t/#\n"
)


def make_site(root: Path, terminals: int, per_broker: int) -> TerminalSite:
    """Write every broker's files and the credentials sheet under ``root``."""
    count = -(-terminals // per_broker)
    acker_password = secrets.token_urlsafe(12)
    brokers: list[BrokerSite] = []
    rows = ["terminal_id,password,broker"]
    for b in range(count):
        directory = root / f"broker-{b:02d}"
        directory.mkdir(parents=True, exist_ok=True)
        port = free_port()
        ids = range(b * per_broker, min(terminals, (b + 1) * per_broker))
        lines = [f"{ACKER}:{mosquitto_hash(acker_password)}"]
        for i in ids:
            terminal_id, password = f"T{i:06d}", secrets.token_urlsafe(9)
            lines.append(f"{terminal_id}:{mosquitto_hash(password)}")
            rows.append(f"{terminal_id},{password},mqtt://127.0.0.1:{port}")
        passwd = directory / "passwd"
        passwd.write_text("\n".join(lines) + "\n")
        passwd.chmod(0o600)
        (directory / "acl").write_text(ACL)
        conf = directory / "mosquitto.conf"
        conf.write_text(_conf(directory, port))
        brokers.append(BrokerSite(port, conf))
    sheet = root / "credentials.csv"
    sheet.write_text("\n".join(rows) + "\n")
    sheet.chmod(0o600)
    return TerminalSite(root, brokers, sheet, acker_password, terminals)
