"""The console's words in Simplified Chinese and English.

One flat JSON file per language in ``i18n/`` (``{"feed.title": "…"}``), both with the
same keys. A missing key falls back to English, then to the key itself, so a gap shows
up on screen instead of breaking a page.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

I18N_DIR = Path(__file__).parent / "i18n"
LANGUAGES = ("zh", "en")
FALLBACK = "en"

Gettext = Callable[..., str]


class Translations:
    """Lookup of a key in one language, with ``{name}`` placeholders filled in."""

    def __init__(self, tables: Mapping[str, Mapping[str, str]]) -> None:
        self.tables = tables

    def gettext(self, language: str, key: str, /, **values: Any) -> str:
        table = self.tables.get(language) or self.tables[FALLBACK]
        text = table.get(key) or self.tables[FALLBACK].get(key) or key
        return text.format(**values) if values else text

    def for_language(self, language: str) -> Gettext:
        """A ``t(key, **values)`` bound to ``language``, for templates."""

        def t(key: str, /, **values: Any) -> str:
            return self.gettext(language, key, **values)

        return t

    def subset(self, language: str, prefixes: tuple[str, ...]) -> dict[str, str]:
        """The keys starting with ``prefixes``, for the page's scripts."""
        table = {**self.tables[FALLBACK], **self.tables.get(language, {})}
        return {key: text for key, text in table.items() if key.startswith(prefixes)}


def load_translations(directory: Path = I18N_DIR) -> Translations:
    """Read ``zh.json`` and ``en.json``."""
    tables = {}
    for language in LANGUAGES:
        with (directory / f"{language}.json").open(encoding="utf-8") as handle:
            tables[language] = json.load(handle)
    return Translations(tables)
