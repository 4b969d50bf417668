"""Telling a running process to reload: a broker re-reads its accounts and ACL, the
gateway its registry. Both do it on SIGHUP.

A target names the process the way the site runs it:

* ``pidfile:PATH`` — send SIGHUP to the PID written in ``PATH`` (Mosquitto's
  ``pid_file``, the gateway's ``reload.pid_file``);
* ``systemd:UNIT`` — ``systemctl reload UNIT`` (the shipped units send SIGHUP).

A site with several brokers lists one target per broker.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

from gateway.errors import ReloadError

#: What a target looks like (used to validate the config).
TARGET_PATTERN = r"^(pidfile:.+|systemd:[A-Za-z0-9@._:-]+)$"
SYSTEMCTL_TIMEOUT_S = 60


def send_reload(target: str) -> str:
    """Tell ``target`` to reload; return what was done, for the operator."""
    kind, _, where = target.partition(":")
    if not re.match(TARGET_PATTERN, target):
        raise ReloadError(f"{target!r}: expected 'pidfile:PATH' or 'systemd:UNIT'")
    if kind == "systemd":
        return _systemctl_reload(where)
    pid = read_pid(Path(where))
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError as exc:
        raise ReloadError(f"{where}: process {pid} is not running (stale PID file?)") from exc
    except PermissionError as exc:
        raise ReloadError(f"{where}: not allowed to signal process {pid}") from exc
    return f"sent SIGHUP to {pid} ({where})"


def read_pid(path: Path) -> int:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ReloadError(f"{path}: cannot read the PID file: {exc}") from exc
    if not text.isdigit() or int(text) <= 1:
        raise ReloadError(f"{path}: does not hold a process id")
    return int(text)


def write_pid(path: Path) -> None:
    """Write this process's PID to ``path`` (replaced atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(path.name + ".new")
    staged.write_text(f"{os.getpid()}\n", encoding="ascii")
    os.replace(staged, path)


def _systemctl_reload(unit: str) -> str:
    try:
        subprocess.run(
            ["systemctl", "reload", unit], check=True, capture_output=True, text=True,
            timeout=SYSTEMCTL_TIMEOUT_S,
        )  # fmt: skip
    except FileNotFoundError as exc:
        raise ReloadError("systemctl not found: this target needs systemd") from exc
    except subprocess.CalledProcessError as exc:
        raise ReloadError(f"systemctl reload {unit}: {exc.stderr.strip()[:200]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ReloadError(f"systemctl reload {unit}: no answer in {exc.timeout:g} s") from exc
    return f"reloaded {unit}"
