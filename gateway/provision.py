"""Provisioning a site: from its registry to every file its brokers and gateway need.

Input is the site's own registry (``terminals.csv``: who and where, optionally which
town broker) — or, for a demo only, an invented district. Output, in one directory:

=====================  ========================================================
``terminals.csv``      the registry, checked, with the district filled in and a
                       ``zone`` per terminal in a bridged district
``credentials.csv``    ``terminal_id,password,broker`` (mode 0600): flashed into
                       the terminals; ``broker`` is the URL each one connects to
``tls/ca.crt``         the site CA every terminal, bridge and the gateway trusts
``tls/ca.key``         its key (0600): keep it offline once the site is set up
``brokers/NAME/``      per broker: ``mosquitto.conf``, accounts, ACLs, certificate
``topology.json``      which brokers exist and their listeners (read by the tools
                       that start them: ``python -m device_sim brokers``)
``gateway.toml``       the gateway's broker and registry settings for this site
``gateway.env``        the gateway's broker password (0600)
=====================  ========================================================
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import secrets
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TextIO

import tomli_w

from gateway.broker import (
    BrokerDir,
    BrokerSettings,
    bridges_acl,
    gateway_acl,
    render_conf,
    terminal_acl,
    write_passwd,
)
from gateway.errors import GatewayError, RegistryError
from gateway.pki import create_ca, issue_server
from gateway.registry import COLUMNS, Terminal
from gateway.topology import PortPlan, Topology, bridge_user, plan_topology

TopologyKind = Literal["auto", "single", "district"]

_TOWNS = (
    "城关街道", "东城街道", "西城街道", "南湖街道", "北苑街道", "新华镇", "永安镇", "青山镇",
    "河口镇", "白云镇", "石桥镇", "龙泉镇", "桃源镇", "清溪镇", "长乐镇", "安平镇", "丰收镇",
)  # fmt: skip
_VILLAGES = (
    "幸福社区", "和平社区", "友谊社区", "光明社区", "阳光社区", "建设村", "红星村", "胜利村",
    "团结村", "前进村", "新民村", "太平村", "梨花村", "杏林村", "柳树村", "枫林村",
)  # fmt: skip
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN = "秀兰桂英玉珍淑华国强建国德明志刚文秀凤英明华春梅金花永福长生宝山"
CREDENTIALS_HEADER = ("terminal_id", "password", "broker")


def demo_district(
    count: int, towns: int = 17, villages_per_town: int = 11, district: str = "示范区",
    seed: int = 7,
) -> list[Terminal]:  # fmt: skip
    """``count`` invented terminals spread over ``towns`` × ``villages_per_town`` villages."""
    rng = random.Random(seed)
    places = [
        (_TOWNS[t % len(_TOWNS)], f"{_VILLAGES[(t * 5 + v) % len(_VILLAGES)]}{v + 1}")
        for t in range(towns)
        for v in range(villages_per_town)
    ]
    terminals = []
    for n in range(count):
        town, village = places[n % len(places)]
        name = rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=2))
        phone = f"13{rng.randrange(10**9):09d}"
        terminals.append(Terminal(f"T{n + 1:06d}", name, (district, town, village), phone))
    return terminals


def assign_zones(terminals: Sequence[Terminal], kind: TopologyKind) -> list[Terminal]:
    """Zones for the topology: ``single`` has none; ``district`` keeps the registry's or,
    when it has none, gives each town its own (``town01``, ``town02``, … in the order
    towns first appear); ``auto`` is ``district`` when the registry names zones."""
    zoned = [t for t in terminals if t.zone is not None]
    if kind == "auto":
        kind = "district" if zoned else "single"
    if kind == "single":
        if zoned:
            raise RegistryError(
                f"terminal {zoned[0].terminal_id} has a zone: use --topology district, "
                "or clear the zone column for a single broker"
            )
        return list(terminals)
    if zoned and len(zoned) != len(terminals):
        missing = next(t for t in terminals if t.zone is None)
        raise RegistryError(f"terminal {missing.terminal_id} has no zone, others have one")
    if zoned:
        return list(terminals)
    towns: dict[str, str] = {}
    for t in terminals:
        towns.setdefault(t.region[1], f"town{len(towns) + 1:02d}")
    return [replace(t, zone=towns[t.region[1]]) for t in terminals]


def zones_of(terminals: Iterable[Terminal]) -> list[str]:
    """Distinct zones in the order they first appear."""
    return list(dict.fromkeys(t.zone for t in terminals if t.zone is not None))


def new_password() -> str:
    """A fresh random password (128 bits) that does not start with ``-``, which a command
    line (``mosquitto_pub -P …``, the simulator's options) would read as an option."""
    while (password := secrets.token_urlsafe(16)).startswith("-"):
        pass
    return password


def write_registry(path: Path, terminals: Iterable[Terminal]) -> None:
    """The registry CSV; the ``zone`` column only when some terminal has a zone."""
    rows = list(terminals)
    zoned = any(t.zone is not None for t in rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*COLUMNS, "phone", *(["zone"] if zoned else [])])
        for t in rows:
            zone = [t.zone or ""] if zoned else []
            writer.writerow([t.terminal_id, t.elder_name, *t.region, t.phone, *zone])


@dataclass(frozen=True, slots=True)
class Credential:
    """One terminal's broker login and the URL of the broker it connects to."""

    terminal_id: str
    password: str
    broker: str = ""


def _secret_writer(path: Path) -> TextIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", newline="", encoding="utf-8")


def write_credentials(path: Path, credentials: Iterable[Credential]) -> None:
    """Write the secret sheet, readable by its owner only."""
    with _secret_writer(path) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CREDENTIALS_HEADER)
        writer.writerows((c.terminal_id, c.password, c.broker) for c in credentials)


def read_credentials(path: Path) -> Iterator[Credential]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                yield Credential(row["terminal_id"], row["password"], row.get("broker") or "")
    except (OSError, KeyError) as exc:
        raise RegistryError(f"{path}: not a credentials sheet: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Site:
    """What :func:`provision_site` wrote."""

    root: Path
    topology: Topology
    terminals: list[Terminal]
    passwords: dict[str, str]
    gateway_user: str
    gateway_password: str

    @property
    def ca_file(self) -> Path:
        return self.root / "tls" / "ca.crt"

    def broker_dir(self, name: str) -> BrokerDir:
        return BrokerDir(self.root / "brokers" / name)


def provision_site(
    out: Path,
    terminals: Sequence[Terminal],
    ports: PortPlan,
    *,
    host: str = "127.0.0.1",
    extra_names: Sequence[str] = (),
    gateway_user: str = "gateway",
    gateway_tls: bool = False,
    persistence: bool = True,
    broker_settings: BrokerSettings | None = None,
    broker_only: Sequence[str] = (),
    credentials_tls: bool = True,
    district: str | None = None,
    now: dt.datetime | None = None,
) -> Site:
    """Write every file of a site for ``terminals`` (their zones decide the topology).

    ``broker_only`` names accounts the terminal brokers know but the registry does not
    (a terminal installed but not yet registered with the gateway). ``credentials_tls``
    chooses which listener the credentials sheet points terminals at. ``broker_settings``
    (queue sizes, …) replaces the defaults, ``persistence`` included.
    """
    settings = broker_settings or BrokerSettings(persistence=persistence)
    zones = zones_of(terminals)
    topology = plan_topology(
        zones, ports, host=host, gateway_tls=gateway_tls, extra_names=extra_names
    )
    passwords = {t.terminal_id: new_password() for t in terminals}
    passwords.update({name: new_password() for name in broker_only})
    site = Site(out, topology, list(terminals), passwords, gateway_user, new_password())
    write_registry(out / "terminals.csv", terminals)
    write_credentials(
        out / "credentials.csv",
        (Credential(t.terminal_id, passwords[t.terminal_id],
                    topology.terminal_url(t.zone, tls=credentials_tls)) for t in terminals),
    )  # fmt: skip
    _write_tls(site, now or dt.datetime.now(dt.UTC))
    _write_brokers(site, broker_only, settings)
    _write_manifest(site)
    _write_gateway_files(site, district)
    return site


def _write_tls(site: Site, now: dt.datetime) -> None:
    ca = create_ca(f"{site.topology.host} eldercare site CA", now)
    ca.write(site.ca_file, site.ca_file.with_suffix(".key"))
    for plan in site.topology.brokers:
        files = site.broker_dir(plan.name)
        issue_server(ca, site.topology.server_names(), now).write(files.cert, files.key)


def _write_brokers(site: Site, broker_only: Sequence[str], settings: BrokerSettings) -> None:
    topology = site.topology
    gateway = [(site.gateway_user, site.gateway_password)]
    bridge_passwords = {b.zone: new_password() for b in topology.brokers if b.zone is not None}
    for plan in topology.brokers:
        files = site.broker_dir(plan.name)
        files.state.mkdir(parents=True, exist_ok=True)
        if plan.listener("gateway"):
            write_passwd(files.passwd("gateway"), gateway)
            files.acl("gateway").write_text(
                gateway_acl(site.gateway_user, topology.bridged), encoding="utf-8"
            )
        if plan.listener("bridges"):
            write_passwd(files.passwd("bridges"),
                         [(bridge_user(z), pw) for z, pw in bridge_passwords.items()])  # fmt: skip
            files.acl("bridges").write_text(bridges_acl(list(bridge_passwords)), encoding="utf-8")
        if plan.listener("terminals"):
            names = [t.terminal_id for t in site.terminals if t.zone == plan.zone]
            names += broker_only
            write_passwd(files.passwd("terminals"), ((n, site.passwords[n]) for n in names))
            files.acl("terminals").write_text(terminal_acl(), encoding="utf-8")
        conf = render_conf(
            plan, files, site.ca_file, settings=settings,
            bridge_password=bridge_passwords.get(plan.zone) if plan.zone else None,
        )  # fmt: skip
        with _secret_writer(files.conf) as handle:  # a town's holds its bridge password
            handle.write(conf)


def _write_manifest(site: Site) -> None:
    doc = {
        "format": 1,
        "bridged": site.topology.bridged,
        "host": site.topology.host,
        "ca_file": "tls/ca.crt",
        "brokers": [
            {
                "name": plan.name,
                "zone": plan.zone,
                "conf": f"brokers/{plan.name}/mosquitto.conf",
                "listeners": [
                    {"role": x.role, "port": x.port, "bind": x.bind, "tls": x.tls}
                    for x in plan.listeners
                ],
            }
            for plan in site.topology.brokers
        ],
    }
    (site.root / "topology.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")


def gateway_settings(site: Site, district: str | None) -> dict[str, Any]:
    """The gateway config's sections this site decides (the rest keeps defaults)."""
    listener = site.topology.gateway_listener()
    mqtt: dict[str, Any] = {
        "host": "127.0.0.1" if listener.bind == "127.0.0.1" else site.topology.host,
        "port": listener.port,
        "username": site.gateway_user,
        "bridged": site.topology.bridged,
    }
    if listener.tls:
        mqtt["tls"] = {"ca_file": str(site.ca_file.resolve())}
    doc: dict[str, Any] = {
        "mqtt": mqtt,
        "registry": {"path": str((site.root / "terminals.csv").resolve())},
    }
    if district is not None:
        doc["site"] = {"district": district}
    return doc


def _write_gateway_files(site: Site, district: str | None) -> None:
    header = "# Generated by `python -m gateway provision`: this site's brokers and registry.\n"
    if site.topology.bridged:
        header += (
            "# A district: add [webhook] with own_process = true, so that forwarding runs on\n"
            "# a second core (README, Sizing).\n"
        )
    body = tomli_w.dumps(gateway_settings(site, district))
    (site.root / "gateway.toml").write_text(header + body, encoding="utf-8")
    with _secret_writer(site.root / "gateway.env") as handle:
        handle.write(f"GATEWAY__MQTT__USERNAME={site.gateway_user}\n")
        handle.write(f"GATEWAY__MQTT__PASSWORD={site.gateway_password}\n")


def rewrite_terminal_accounts(
    root: Path, credentials: Path, registered: Collection[str] | None = None
) -> dict[str, int]:
    """Regenerate every terminal broker's accounts from a credentials sheet (terminals
    added or removed) — only those ``registered``, when given; returns accounts per
    broker. Send the brokers SIGHUP afterwards."""
    manifest = json.loads((root / "topology.json").read_text(encoding="utf-8"))
    by_port: dict[int, str] = {}
    for broker in manifest["brokers"]:
        for listener in broker["listeners"]:
            if listener["role"] == "terminals":
                by_port[int(listener["port"])] = broker["name"]
    accounts: dict[str, list[tuple[str, str]]] = {name: [] for name in by_port.values()}
    for credential in read_credentials(credentials):
        if registered is not None and credential.terminal_id not in registered:
            continue
        port = credential.broker.rpartition(":")[2]
        name = by_port.get(int(port)) if port.isdigit() else None
        if not credential.broker and len(accounts) == 1:
            name = next(iter(accounts))  # one terminal broker: a row needs no broker named
        if name is None:
            raise GatewayError(
                f"{credentials}: {credential.terminal_id}: broker {credential.broker!r} "
                "is none of this site's terminal brokers"
            )
        accounts[name].append((credential.terminal_id, credential.password))
    for name, pairs in accounts.items():
        write_passwd(BrokerDir(root / "brokers" / name).passwd("terminals"), pairs)
    return {name: len(pairs) for name, pairs in accounts.items()}
