"""Mosquitto's files for one broker of a site: configuration, accounts and ACLs.

Each listener has its own accounts and ACL (``per_listener_settings``):

* **terminals** — one account per terminal (username = terminal id), ``%u`` patterns so a
  terminal can use only its own topics, and ``use_username_as_clientid`` so no terminal
  can take over another client's session by borrowing its client id;
* **gateway** — the gateway's own accounts: no terminal password works here, and a
  terminal's client id (forced to its terminal id) cannot reach the gateway's sessions;
* **bridges** (district broker) — one account per town bridge, confined to its zone.

Passwords are hashed by Mosquitto's own ``mosquitto_passwd -U`` (PBKDF2-SHA512), so the
broker reads exactly the format it writes. After changing terminals, regenerate and send
the broker SIGHUP: it re-reads password files and ACLs.

Limits, the same for every broker of a role (see README "Topology"):

* ``max_packet_size`` refuses, before anything is queued, a packet the protocol forbids
  (payloads are at most 2,048 bytes): the sender is disconnected.
* Queues are per client session and bounded (:data:`GATEWAY_SIDE`). The gateway reads
  through separate sessions — alarms apart from health/status, and in a district per
  town — so a flood fills only the queues of the topics and the town it comes from.
"""

from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import GatewayError
from gateway.topology import DISTRICT, Bridge, BrokerPlan, Listener, bridge_user
from gateway.zones import DROPPED, bridge_dropped_topic, bridge_state_topic, zone_prefix

#: PROTOCOL.md caps payloads at 2,048 bytes; the longest topic on a district broker is
#: 114 bytes. 4 KiB leaves room for MQTT headers and properties and stops a 70 kB flood.
MAX_PACKET_SIZE = 4096
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class QueueLimits:
    """Mosquitto's per-session limits (``max_queued_*``, ``max_inflight_messages``)."""

    messages: int
    bytes: int
    inflight: int


#: One of the gateway's sessions (single or district broker; one pair per town in a
#: district). 10,000 messages are ~50 s of a town's telemetry while the gateway restarts,
#: and the longest backlog an alarm can wait behind when terminals flood: beyond it the
#: broker drops (counted in $SYS, seen as gateway_broker_dropped_messages) instead of
#: queueing ever more. A dropped alarm is retransmitted by its terminal.
GATEWAY_SIDE = QueueLimits(messages=10_000, bytes=16 * MIB, inflight=1000)
#: A town's bridge session holds ten minutes of that town's uplink (10,000 terminals
#: ≈ 200 msg/s) while the district broker or the link to it is down.
TOWN = QueueLimits(messages=200_000, bytes=256 * MIB, inflight=1000)


#: Seconds between Mosquitto's saves of its in-memory state (``autosave_interval``). A
#: save is written by the broker's only thread, and every message through that broker
#: waits for it, for a time that grows with what the broker holds. A town broker or a
#: single site's broker (its terminals' retained statuses, its bridge queue) saves every
#: minute, which bounds what a crash (kill -9) loses of a bridge queue held while the
#: district broker is away.
AUTOSAVE_INTERVAL_S = 60
#: The district broker holds every terminal's retained status: measured here, with a
#: district's 170,000 (44 MB on disk) one save stopped it for 120–135 ms on a quiet
#: machine. Once a minute that is ~0.2 % of its time, met by each alarm on its way in and
#: again by its acks on the way out — much of a p99. So it saves every 30 minutes
#: (Mosquitto's own default). What a crash loses since then heals without it: terminals
#: re-publish their retained status every status period and retransmit an alarm until it
#: is ``received``; they use clean sessions and re-publish open alerts on every
#: reconnect (PROTOCOL.md §7), so no ack waits in it for them; the bridges and the
#: gateway subscribe on every connect. A broker that is stopped (SIGTERM, a restart)
#: saves on the way out whatever the interval.
DISTRICT_AUTOSAVE_INTERVAL_S = 1800


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """What a site may tune in every broker it provisions."""

    persistence: bool = True
    gateway_side: QueueLimits = GATEWAY_SIDE
    town: QueueLimits = TOWN
    sys_interval_s: int = 10
    autosave_interval_s: int = AUTOSAVE_INTERVAL_S
    district_autosave_interval_s: int = DISTRICT_AUTOSAVE_INTERVAL_S


UPLINK = ("alert", "health", "status")
AVAILABILITY = "ec/v1/gateway/+/availability"
DOWNLINK = ("ack", "cmd")


def terminal_acl() -> str:
    lines = [f"pattern write ec/v1/t/%u/{c}" for c in UPLINK]
    lines += [f"pattern read ec/v1/t/%u/{c}" for c in DOWNLINK]
    return _file("Every terminal (username = terminal id) may use only its own topics.", lines)


def gateway_acl(user: str, bridged: bool) -> str:
    """The gateway reads every terminal's uplink, writes every downlink, reads drop counts."""
    base = "ec/v1/z/+/t/+" if bridged else "ec/v1/t/+"
    lines = [f"user {user}", f"topic read {DROPPED}"]
    lines += [f"topic read {base}/{c}" for c in UPLINK]
    lines += [f"topic write {base}/{c}" for c in DOWNLINK]
    # Its own availability (retained "online", last will "offline"), read by the district.
    lines.append(f"topic readwrite {AVAILABILITY}")
    if bridged:
        lines += [
            f"topic read {bridge_state_topic('+')}",
            f"topic read {bridge_dropped_topic('+')}",
        ]
    return _file("The gateway's account.", lines)


def bridges_acl(zones: Sequence[str]) -> str:
    """Each town bridge may publish its own zone's uplink and read its own downlink."""
    lines: list[str] = []
    for zone in zones:
        base = f"{zone_prefix(zone)}t/+"
        lines.append(f"user {bridge_user(zone)}")
        lines += [f"topic write {base}/{c}" for c in UPLINK]
        lines += [f"topic read {base}/{c}" for c in DOWNLINK]
        lines += [
            f"topic write {bridge_state_topic(zone)}",
            f"topic write {bridge_dropped_topic(zone)}",
        ]
        lines.append("")
    return _file("One account per town bridge, confined to its zone.", lines)


def _file(what: str, lines: Iterable[str]) -> str:
    head = ["# Generated by `python -m gateway provision`. Do not edit by hand.", f"# {what}"]
    return "\n".join([*head, *lines]).rstrip("\n") + "\n"


def write_passwd(path: Path, accounts: Iterable[tuple[str, str]]) -> None:
    """A Mosquitto password file (owner-only), hashed by ``mosquitto_passwd -U``.

    Written beside its final name and renamed over it, so a broker told to reload at
    any moment reads the old file or the new one, never a half (nor the passwords
    before they are hashed).
    """
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        raise GatewayError("mosquitto_passwd not found: install the 'mosquitto' package")
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.new")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for user, password in accounts:
                if ":" in user or "\n" in user + password or not user:
                    raise GatewayError(f"invalid broker account {user!r}")
                handle.write(f"{user}:{password}\n")
                count += 1
        if count:  # mosquitto_passwd refuses an empty file; the broker takes it (no logins)
            subprocess.run([tool, "-U", str(staged)], check=True, capture_output=True,
                           timeout=3600)  # fmt: skip
    except subprocess.CalledProcessError as exc:
        raise GatewayError(f"mosquitto_passwd failed: {exc.stderr.decode()[:200]}") from exc
    finally:
        if count and not _hashed(staged):
            staged.unlink(missing_ok=True)  # never leave plain-text passwords behind
    if staged.exists():
        os.replace(staged, path)


def _hashed(passwd: Path) -> bool:
    """Whether every line of ``passwd`` holds a hash (``user:$7$…``), not a password."""
    try:
        lines = passwd.read_text(encoding="utf-8").splitlines()
    except OSError:
        return False
    return all(line.split(":", 1)[1].startswith("$") for line in lines if ":" in line)


@dataclass(frozen=True, slots=True)
class BrokerDir:
    """The files of one broker, all under ``root``."""

    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "mosquitto.conf"

    @property
    def cert(self) -> Path:
        return self.root / "server.crt"

    @property
    def key(self) -> Path:
        return self.root / "server.key"

    @property
    def state(self) -> Path:
        return self.root / "state"

    def passwd(self, role: str) -> Path:
        return self.root / f"{role}.passwd"

    def acl(self, role: str) -> Path:
        return self.root / f"{role}.acl"


def _globals(
    limits: QueueLimits, files: BrokerDir, settings: BrokerSettings, autosave_s: int
) -> list[str]:
    return [
        "per_listener_settings true",
        # Run as whoever started it (a root-started broker would otherwise switch to the
        # 'mosquitto' account, which cannot read these owner-only files).
        f"user {getpass.getuser()}",
        f"max_packet_size {MAX_PACKET_SIZE}",
        f"max_inflight_messages {limits.inflight}",
        f"max_queued_messages {limits.messages}",
        f"max_queued_bytes {limits.bytes}",
        "set_tcp_nodelay true",
        f"persistence {'true' if settings.persistence else 'false'}",
        f"persistence_location {files.state.resolve()}/",
        f"autosave_interval {autosave_s}",
        f"sys_interval {settings.sys_interval_s}",
        "log_dest stderr",
        *(f"log_type {kind}" for kind in ("error", "warning", "notice")),
        "connection_messages false",
    ]


_ABOUT = {
    ("terminals", True): "Terminals, over TLS: homes reach it across public networks.",
    ("terminals", False): "Terminals on this machine only (simulators, local tools).",
    ("gateway", False): "The gateway: its own accounts; terminals cannot log in here.",
    ("gateway", True): "The gateway, over TLS: its own accounts; terminals cannot log in.",
    ("bridges", True): "Town brokers' bridges, over TLS.",
}


def _listener(item: Listener, files: BrokerDir, ca_file: Path) -> list[str]:
    lines = ["", f"# {_ABOUT[(item.role, item.tls)]}", f"listener {item.port} {item.bind}"]
    lines.append(f"max_connections {item.max_connections}")
    if item.tls:
        lines += [
            f"cafile {ca_file.resolve()}", f"certfile {files.cert.resolve()}",
            f"keyfile {files.key.resolve()}", "tls_version tlsv1.2",
        ]  # fmt: skip
    if item.role != "gateway":
        lines.append("use_username_as_clientid true")
    lines += [
        "allow_anonymous false",
        f"password_file {files.passwd(item.role).resolve()}",
        f"acl_file {files.acl(item.role).resolve()}",
    ]
    return lines


def _bridge(bridge: Bridge, password: str, ca_file: Path) -> list[str]:
    remap = f"ec/v1/ {zone_prefix(bridge.zone)}"
    return [
        "",
        f"# Bridge to the district broker: uplink out under {zone_prefix(bridge.zone)}, only",
        "# this town's downlink (acks, commands) in. QoS 1; the bridge's session",
        "# (cleansession false) queues both ways while the link is down.",
        "connection district",
        f"address {bridge.address}:{bridge.port}",
        "bridge_protocol_version mqttv311",
        f"remote_clientid {bridge.username}",
        f"remote_username {bridge.username}",
        f"remote_password {password}",
        "cleansession false",
        "try_private true",
        "keepalive_interval 30",
        "restart_timeout 1 10",
        "notifications true",
        f"notification_topic {bridge_state_topic(bridge.zone)}",
        f"bridge_cafile {ca_file.resolve()}",
        "bridge_tls_version tlsv1.2",
        "bridge_insecure false",
        *(f"topic t/+/{c} out 1 {remap}" for c in UPLINK),
        *(f"topic t/+/{c} in 1 {remap}" for c in DOWNLINK),
        f'topic "" out 0 {DROPPED} {bridge_dropped_topic(bridge.zone)}',
    ]


def render_conf(
    plan: BrokerPlan, files: BrokerDir, ca_file: Path, *, bridge_password: str | None = None,
    settings: BrokerSettings = BrokerSettings(),
) -> str:  # fmt: skip
    """``mosquitto.conf`` for ``plan`` (pure: the files it names are written elsewhere)."""
    limits = settings.town if plan.bridge is not None else settings.gateway_side
    district = plan.name == DISTRICT
    autosave = settings.district_autosave_interval_s if district else settings.autosave_interval_s
    lines = _globals(limits, files, settings, autosave)
    for item in plan.listeners:
        lines += _listener(item, files, ca_file)
    if plan.bridge is not None:
        if not bridge_password:
            raise GatewayError(f"broker {plan.name}: its bridge needs a password")
        lines += _bridge(plan.bridge, bridge_password, ca_file)
    return _file(f"Mosquitto broker {plan.name!r}.", lines)
