"""An elder's record: what a responder must know to help at the door. Pure.

Kept per terminal (one terminal serves one elder): the address, how to get in (key
safe, door code — shown only on request and audited), medical notes, the language or
dialect to speak, whether the elder lives alone, and the contacts in calling order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Who a contact is for the elder; the call sequence tries them in list order.
CONTACT_ROLES = (
    "relative", "neighbour", "grid_worker", "doctor", "volunteer", "service_station",
    "village_staff",
)  # fmt: skip
#: Roles that serve a whole community: offered when assigning a service request.
PROVIDER_ROLES = ("service_station", "volunteer", "grid_worker", "village_staff")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()-]{2,31}$")
MAX_CONTACTS = 12
LIMITS = {"address": 200, "access": 200, "medical": 1000, "language": 64, "name": 64}


class RecordError(ValueError):
    """A record that cannot be stored; the message names the field."""


@dataclass(frozen=True, slots=True)
class Contact:
    """One person to call, in the elder's list."""

    name: str
    role: str
    phone: str


@dataclass(frozen=True, slots=True)
class ElderRecord:
    """Everything known about the elder behind ``terminal_id``."""

    terminal_id: str
    address: str = ""
    access: str = ""
    medical: str = ""
    language: str = ""
    lives_alone: bool = False
    contacts: tuple[Contact, ...] = field(default_factory=tuple)
    updated_at: float = 0.0
    updated_by: str = ""


def _check_text(name: str, value: str) -> None:
    if len(value) > LIMITS[name]:
        raise RecordError(f"{name}: at most {LIMITS[name]} characters")
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
        raise RecordError(f"{name}: control characters are not allowed")


def check_contact(contact: Contact, index: int) -> None:
    """Raise :class:`RecordError` naming ``contacts[index].field`` when invalid."""
    where = f"contacts[{index + 1}]"
    if not contact.name.strip():
        raise RecordError(f"{where}.name: required")
    if len(contact.name) > LIMITS["name"]:
        raise RecordError(f"{where}.name: at most {LIMITS['name']} characters")
    if contact.role not in CONTACT_ROLES:
        raise RecordError(f"{where}.role: one of {', '.join(CONTACT_ROLES)}")
    if not PHONE_RE.match(contact.phone):
        raise RecordError(f"{where}.phone: digits, spaces, +, -, ( ) — 3 to 32 characters")


def check_record(record: ElderRecord) -> None:
    """Raise :class:`RecordError` naming the first invalid field."""
    for name in ("address", "access", "medical", "language"):
        _check_text(name, getattr(record, name))
    if len(record.contacts) > MAX_CONTACTS:
        raise RecordError(f"contacts: at most {MAX_CONTACTS}")
    for index, contact in enumerate(record.contacts):
        check_contact(contact, index)


def changed_fields(old: ElderRecord | None, new: ElderRecord) -> list[str]:
    """Names of the fields ``new`` changes (for the audit log; values stay out of it)."""
    names = ("address", "access", "medical", "language", "lives_alone", "contacts")
    if old is None:
        return [n for n in names if getattr(new, n) not in ("", False, ())]
    return [n for n in names if getattr(old, n) != getattr(new, n)]


def providers(contacts: Iterable[Contact]) -> list[Contact]:
    """The community's service providers among ``contacts``, once each, stations first."""
    seen: dict[tuple[str, str], Contact] = {}
    for contact in contacts:
        if contact.role in PROVIDER_ROLES:
            seen.setdefault((contact.name, contact.phone), contact)
    order = {role: n for n, role in enumerate(PROVIDER_ROLES)}
    return sorted(seen.values(), key=lambda c: (order[c.role], c.name))
