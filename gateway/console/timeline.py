"""An alarm's timeline entries as the alarm page shows them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gateway.console.texts import Gettext


def _note(action: str, note: str | None, t: Gettext) -> str:
    """Translate the structured notes the console writes (``to town``, ``doctor: Li``)."""
    if not note:
        return ""
    if action == "escalated" and note.startswith("to "):
        name = note[3:]
        label = t(f"escalation.{name}")
        return t("timeline.escalated_to", name=name if label == f"escalation.{name}" else label)
    if action == "assigned":
        role, sep, rest = note.partition(": ")
        label = t(f"role.{role}")
        if sep and label != f"role.{role}":
            return f"{label}: {rest}"
    if note == "cancelled":
        return t("timeline.cancelled")
    return note


def timeline_rows(entries: Iterable[Mapping[str, Any]], t: Gettext) -> list[dict[str, Any]]:
    """``at``, translated ``action``, ``actor`` and a readable ``note`` per entry."""
    return [
        {
            "at": entry["at"],
            "action": entry["action"],
            "label": t(f"timeline.{entry['action']}"),
            "actor": entry.get("actor") or "",
            "note": _note(entry["action"], entry.get("note"), t),
        }
        for entry in entries
    ]
