"""Registering terminals: the registry CSV, the credentials sheet, a demo district.

A site's registration is two files: ``terminals.csv`` (who and where — the gateway
reads it) and ``credentials.csv`` (``terminal_id,password`` — flashed into the
terminals and turned into the broker's password file; keep it secret, mode 0600).
"""

from __future__ import annotations

import csv
import os
import random
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from gateway.broker import BrokerFiles, write_broker_files
from gateway.errors import RegistryError
from gateway.registry import COLUMNS, Terminal

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


def demo_district(
    count: int, towns: int = 17, villages_per_town: int = 11, district: str = "示范区",
    seed: int = 7,
) -> list[Terminal]:  # fmt: skip
    """``count`` terminals spread over ``towns`` × ``villages_per_town`` villages."""
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


def new_password() -> str:
    """A fresh random terminal password (128 bits)."""
    return secrets.token_urlsafe(16)


def write_registry(path: Path, terminals: Iterable[Terminal]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow([*COLUMNS, "phone"])
        for t in terminals:
            writer.writerow([t.terminal_id, t.elder_name, *t.region, t.phone])


def write_credentials(path: Path, credentials: Iterable[tuple[str, str]]) -> None:
    """Write the secret sheet, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["terminal_id", "password"])
        writer.writerows(credentials)


def read_credentials(path: Path) -> Iterator[tuple[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                yield row["terminal_id"], row["password"]
    except (OSError, KeyError) as exc:
        raise RegistryError(f"{path}: not a credentials sheet: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Site:
    """What :func:`provision_site` wrote: passwords by terminal id, the gateway's login."""

    passwords: dict[str, str]
    gateway_user: str
    gateway_password: str
    broker: BrokerFiles


def provision_site(
    out: Path,
    terminals: Sequence[Terminal],
    *,
    broker_port: int,
    gateway_user: str = "gateway",
    persistence: bool = True,
    broker_only: Sequence[str] = (),
) -> Site:
    """Register ``terminals``: registry, credentials sheet and the broker's files in ``out``.

    ``broker_only`` names accounts the broker knows but the registry does not (a terminal
    installed but not yet registered with the gateway).
    """
    passwords = {t.terminal_id: new_password() for t in terminals}
    extra = {name: new_password() for name in broker_only}
    gateway_password = new_password()
    write_registry(out / "terminals.csv", terminals)
    write_credentials(out / "credentials.csv", passwords.items())
    accounts = [*passwords.items(), *extra.items(), (gateway_user, gateway_password)]
    files = write_broker_files(
        out / "broker", accounts, gateway_user, port=broker_port, persistence=persistence
    )
    return Site({**passwords, **extra}, gateway_user, gateway_password, files)
