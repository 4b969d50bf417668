"""Starting a real Mosquitto for tests: generated config, password file and ACL, free port."""

from __future__ import annotations

import os
import pwd
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from device_sim.terminals.credentials import Credential
from tests.device_sim.tls_files import TlsFiles, make_tls_files

GATEWAY_USER = "gw"
GATEWAY_PASSWORD = "gw-secret"
TERMINALS = [Credential(f"t-{i:02d}", f"pw-{i:02d}") for i in range(1, 9)]


@dataclass(frozen=True, slots=True)
class MosquittoBroker:
    """A running broker: its port, its terminals and the path of its credentials CSV.

    With TLS, ``tls_port`` is a second listener with a certificate for ``localhost``
    signed by ``tls.ca``.
    """

    port: int
    terminals: list[Credential]
    credentials_csv: Path
    log: Path
    tls_port: int | None = None
    tls: TlsFiles | None = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tls_listener(port: int, tls: TlsFiles) -> str:
    return (
        f"listener {port} 127.0.0.1\n"
        f"cafile {tls.ca}\ncertfile {tls.cert}\nkeyfile {tls.key}\n"
        "tls_version tlsv1.2\n"
    )


def _write_config(directory: Path, port: int, tls: tuple[int, TlsFiles] | None) -> Path:
    passwd = directory / "passwd"
    lines = [f"{c.terminal_id}:{c.password}" for c in TERMINALS]
    passwd.write_text("\n".join([*lines, f"{GATEWAY_USER}:{GATEWAY_PASSWORD}"]) + "\n")
    subprocess.run(["mosquitto_passwd", "-U", str(passwd)], check=True, capture_output=True)
    acl = directory / "acl"
    acl.write_text(
        f"pattern readwrite ec/v1/t/%u/#\n\nuser {GATEWAY_USER}\ntopic readwrite ec/v1/t/#\n"
    )
    conf = directory / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {passwd}\n"
        f"acl_file {acl}\n"
        "persistence false\n"
        # Started as root, mosquitto would switch to user "mosquitto" and lose the tmp dir.
        f"user {pwd.getpwuid(os.getuid()).pw_name}\n"
        "log_dest stderr\n" + (_tls_listener(*tls) if tls else "")
    )
    return conf


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mosquitto exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"mosquitto did not listen on {port}")


def start_mosquitto(
    directory: Path, *, tls: bool = False
) -> tuple[subprocess.Popen[bytes], MosquittoBroker]:
    """Start Mosquitto with a generated config in ``directory``; wait until it listens."""
    port = _free_port()
    tls_setup = (_free_port(), make_tls_files(directory)) if tls else None
    conf = _write_config(directory, port, tls_setup)
    csv = directory / "terminals.csv"
    rows = [f"{c.terminal_id},{c.password}" for c in TERMINALS]
    csv.write_text("\n".join(["terminal_id,password", *rows]) + "\n")
    log = directory / "mosquitto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["mosquitto", "-c", str(conf)], stdout=out, stderr=out)
    try:
        _wait_for_port(port, process, log)
        if tls_setup is not None:
            _wait_for_port(tls_setup[0], process, log)
    except BaseException:
        stop_mosquitto(process)
        raise
    tls_port, files = tls_setup if tls_setup else (None, None)
    return process, MosquittoBroker(port, list(TERMINALS), csv, log, tls_port, files)


def restart_mosquitto(directory: Path, broker: MosquittoBroker) -> subprocess.Popen[bytes]:
    """Start the broker of ``directory`` again, on the same port and configuration."""
    with broker.log.open("ab") as out:
        process = subprocess.Popen(
            ["mosquitto", "-c", str(directory / "mosquitto.conf")], stdout=out, stderr=out
        )
    try:
        _wait_for_port(broker.port, process, broker.log)
    except BaseException:
        stop_mosquitto(process)
        raise
    return process


def stop_mosquitto(process: subprocess.Popen[bytes]) -> None:
    """Terminate (then kill) the broker and reap it."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
