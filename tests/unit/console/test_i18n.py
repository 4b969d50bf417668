"""Both languages say everything, with the same placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

from gateway.console.texts import I18N_DIR, LANGUAGES, Translations, load_translations

TEMPLATES = I18N_DIR.parent / "templates"
LITERAL_KEY = re.compile(r"""\bt\(\s*'([a-z_]+\.[a-z0-9_.]+)'\s*[,)]""")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_the_same_keys() -> None:
    tables = load_translations().tables
    assert set(tables) == set(LANGUAGES)
    assert set(tables["zh"]) == set(tables["en"])


def test_placeholders_match_across_languages() -> None:
    tables = load_translations().tables
    for key, english in tables["en"].items():
        assert _fields(tables["zh"][key]) == _fields(english), key


def test_no_text_is_empty() -> None:
    for table in load_translations().tables.values():
        assert all(text.strip() for text in table.values())


def test_every_key_a_template_names_exists() -> None:
    english = load_translations().tables["en"]
    pages = [path.read_text(encoding="utf-8") for path in Path(TEMPLATES).glob("*.html")]
    used = {key for page in pages for key in LITERAL_KEY.findall(page)}
    assert used, "the pattern found no keys"
    assert sorted(used - set(english)) == []


def test_lookup_falls_back_to_english_then_to_the_key() -> None:
    tables = {language: dict(table) for language, table in load_translations().tables.items()}
    del tables["zh"]["nav.feed"]
    texts = Translations(tables)
    assert texts.gettext("zh", "nav.feed") == "Alarms"
    assert texts.gettext("zh", "no.such.key") == "no.such.key"
    assert texts.gettext("zh", "login.blocked", minutes=5) == "登录失败次数过多，请 5 分钟后再试。"


def test_every_value_shown_by_name_has_words() -> None:
    from firmware_protocol.messages import HELP_KINDS, Stage
    from gateway.cameras.faults import FaultKind
    from gateway.cameras.health import Phase
    from gateway.console.accounts import ROLES
    from gateway.console.pages.alerts import MESSAGES, RESPONDER_ROLES
    from gateway.console.sparkline import CHARTED

    english = load_translations().tables["en"]
    wanted = [
        *(f"kind.{kind}" for kind in HELP_KINDS),
        *(f"stage.{stage}" for stage in Stage),
        *(f"fault.{kind}" for kind in FaultKind),
        *(f"camera_state.{phase}" for phase in Phase),
        *(f"role.{role}" for role in (*ROLES, *RESPONDER_ROLES)),
        *(f"message.{message}" for message in MESSAGES),
        *(f"vital.{name}" for name, _ in CHARTED),
        *(f"timeline.{action}" for action in ("pressed", "received", "delivered", "accepted",
                                              "resolved", "escalated", "assigned", "call_back")),
        "escalation.town", "escalation.district",
    ]  # fmt: skip
    assert [key for key in wanted if key not in english] == []
