"""An alarm's timeline entries as the alarm page shows them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from gateway.console.filters import clock
from gateway.console.texts import Gettext

#: Actions whose note is ``role: name`` (a role the console translates).
ROLE_NOTES = ("assigned", "service.assigned")
#: Actors that are parts of the gateway, not people.
SYSTEM_ACTORS = frozenset({"gateway", "escalator", "dispatch", "command-center"})


def _note(action: str, note: str | None, t: Gettext) -> str:
    """Translate the structured notes the console writes (``to town``, ``doctor: Li``)."""
    if not note:
        return ""
    if action == "escalated" and note.startswith("to "):
        name = note[3:]
        label = t(f"escalation.{name}")
        return t("timeline.escalated_to", name=name if label == f"escalation.{name}" else label)
    if action == "dispatch.exhausted" and note.startswith("rounds: "):
        return t("timeline.rounds", rounds=note[8:])
    if action == "service.scheduled":
        return (
            t("service.asap") if note == "asap" else clock(float(note)) if note.isdigit() else note
        )
    if action in ROLE_NOTES or action.startswith("dispatch."):
        role, sep, rest = note.partition(": ")
        label = t(f"role.{role}")
        if sep and label != f"role.{role}":
            return f"{label}: {rest}"
    if note == "cancelled":
        return t("timeline.cancelled")
    return note


def _actor(actor: str, t: Gettext) -> str:
    """The gateway's own components by a readable name; people as they are."""
    if actor in SYSTEM_ACTORS:
        return t(f"actor.{actor}")
    return actor


def timeline_rows(entries: Iterable[Mapping[str, Any]], t: Gettext) -> list[dict[str, Any]]:
    """``at``, translated ``action``, ``actor`` and a readable ``note`` per entry."""
    return [
        {
            "at": entry["at"],
            "action": entry["action"],
            "label": t(f"timeline.{entry['action']}"),
            "actor": _actor(entry.get("actor") or "", t),
            "note": _note(entry["action"], entry.get("note"), t),
        }
        for entry in entries
    ]
