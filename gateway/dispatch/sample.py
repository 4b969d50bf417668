"""Plausible elders' records for a demo district (``python -m gateway elders sample``)."""

from __future__ import annotations

import random
from collections.abc import Sequence

from gateway.core.elders import Contact, ElderRecord
from gateway.registry import Terminal

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华"
_MEDICAL = (
    "高血压，每日服用氨氯地平",
    "2 型糖尿病，注射胰岛素；低血糖时给糖水",
    "冠心病，床头柜有硝酸甘油",
    "轻度认知障碍，可能认不出人，请先自我介绍",
    "青霉素过敏",
    "髋关节置换术后，行动不便，有跌倒史",
    "慢阻肺，家中有制氧机",
    "无特殊病史",
)
_LANGUAGES = (
    "普通话",
    "杭州话",
    "温州话",
    "吴语（上海话）",
    "闽南语",
    "粤语",
    "普通话，耳背，请大声说",
)
_ACCESS = (
    "钥匙盒在门右侧，密码 {code}", "单元门禁 #{code}#，家门钥匙在邻居家",
    "门口地垫下无钥匙；请找邻居开门", "智能门锁，临时密码 {code}{code2}",
)  # fmt: skip


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return f"13{rng.randrange(10**9):09d}"


def _village_staff(rng: random.Random) -> tuple[Contact, Contact, Contact, Contact]:
    """The grid worker, village doctor, service station and a volunteer of one village."""
    return (
        Contact(f"网格员 {_name(rng)}", "grid_worker", _phone(rng)),
        Contact(f"村医 {_name(rng)}", "doctor", _phone(rng)),
        Contact("社区居家养老服务站", "service_station", f"0571-{rng.randrange(10**8):08d}"),
        Contact(f"志愿者 {_name(rng)}", "volunteer", _phone(rng)),
    )


def sample_records(terminals: Sequence[Terminal], seed: int = 11) -> list[ElderRecord]:
    """One record per terminal: address, access, medical notes, dialect, six contacts."""
    rng = random.Random(seed)
    staff: dict[tuple[str, ...], tuple[Contact, ...]] = {}
    records = []
    for n, t in enumerate(terminals):
        village = staff.setdefault(t.region, _village_staff(rng))
        family = t.elder_name[0]
        contacts = (
            Contact(f"{family}{rng.choice(_GIVEN)}（子女）", "relative", _phone(rng)),
            Contact(f"{_name(rng)}（邻居）", "neighbour", _phone(rng)), *village,
        )  # fmt: skip
        access = rng.choice(_ACCESS).format(code=rng.randrange(1000, 9999), code2=n % 10)
        records.append(
            ElderRecord(
                t.terminal_id,
                address=f"{t.region[1]}{t.region[2]} {rng.randrange(1, 40)} 幢"
                f" {rng.randrange(1, 5)} 单元 {rng.randrange(1, 7)}0{rng.randrange(1, 4)} 室",
                access=access, medical=rng.choice(_MEDICAL), language=rng.choice(_LANGUAGES),
                lives_alone=rng.random() < 0.4, contacts=contacts,
            )
        )  # fmt: skip
    return records
