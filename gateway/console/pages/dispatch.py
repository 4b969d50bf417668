"""The alarm page's dispatch parts: the elder's record, the call sequence and the service
request, and their actions (skip, reassign, take over; schedule, assign, complete; show
the access instructions — audited).

Every action goes through :class:`~gateway.dispatch.desk.DispatchDesk`, which stores
it in one commit, tells the terminal and audits it; the form then redirects back.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from gateway.console.context import ACTING, Console
from gateway.console.pages.lookup import back, form_text, scoped_alert
from gateway.console.sessions import Login
from gateway.core import dispatch as core
from gateway.core.dispatch import Responder
from gateway.core.elders import CONTACT_ROLES, PHONE_RE, Contact
from gateway.store.services import NOTE_MAX

MESSAGES = frozenset(
    {"skipped", "reassigned", "taken_over", "refused", "scheduled", "service_assigned",
     "completed"}
)  # fmt: skip


async def village_providers(console: Console, region: tuple[str, ...]) -> list[Contact]:
    """Volunteers and service stations named by the elders of this village."""
    ids = [t.terminal_id for t in console.registry.values() if t.region == region]
    return await console.desk().elders.providers_among(ids)


async def dispatch_context(
    console: Console, alert: Mapping[str, Any], login: Login, access: str | None = None
) -> dict[str, Any]:
    """What the alarm page shows beyond the alarm itself."""
    lane = "service" if alert["kind"] in console.service_kinds else "alarm"
    context: dict[str, Any] = {
        "lane": lane, "record": None, "sequence": None, "service": None, "providers": [],
        "access": access, "has_access": False, "contact_roles": CONTACT_ROLES,
        "can_see_access": login.role in ACTING,
    }  # fmt: skip
    if console.dispatch is None:
        return context
    desk = console.dispatch
    t, a = alert["terminal_id"], alert["alert_id"]
    full = await desk.elders.get(t, with_access=True)
    if full is not None:
        context["has_access"] = bool(full.access)
        context["record"] = await desk.elders.get(t)
    if lane == "alarm":
        context["sequence"] = await desk.sequences.view(t, a)
    else:
        context["service"] = await desk.services.get(t, a)
        context["providers"] = await village_providers(console, tuple(alert["region"]))
    return context


async def _control(console: Console, request: Request, login: Login, event: core.Input,
                   done: str) -> Response:  # fmt: skip
    alert = await scoped_alert(console, request, login)
    applied = await console.desk().control(
        login.actor, alert["terminal_id"], alert["alert_id"], event
    )
    return back(alert, "refused" if applied.refused else done)


async def skip(console: Console, request: Request, login: Login) -> Response:
    return await _control(console, request, login, core.Skip(login.username), "skipped")


async def take_over(console: Console, request: Request, login: Login) -> Response:
    return await _control(console, request, login, core.TakeOver(login.username), "taken_over")


def _named(form: FormData) -> Responder | None:
    name, phone = form_text(form, "name", 64), form_text(form, "phone", 32)
    role = form_text(form, "role", 32) or "volunteer"
    if name is None or phone is None or not PHONE_RE.match(phone) or role not in CONTACT_ROLES:
        return None
    return Responder(name, phone, role)


async def reassign(console: Console, request: Request, login: Login) -> Response:
    alert = await scoped_alert(console, request, login)
    form = await request.form()
    event: core.Input | None = None
    person = _named(form)
    if person is not None:
        event = core.Reassign(login.username, person)
    else:
        record = await console.desk().elders.get(alert["terminal_id"])
        raw = form_text(form, "position", 3) or ""
        contacts = record.contacts if record else ()
        if raw.isdigit() and 1 <= int(raw) <= len(contacts):
            c = contacts[int(raw) - 1]
            event = core.Reassign(login.username, Responder(c.name, c.phone, c.role), int(raw) - 1)
    if event is None:
        return back(alert, "invalid")
    return await _control(console, request, login, event, "reassigned")


def parse_local_time(raw: str | None) -> float | None:
    """``YYYY-MM-DDTHH:MM`` (an ``<input type=datetime-local>``) as Unix time."""
    if not raw:
        return None
    parsed = time.strptime(raw[:16], "%Y-%m-%dT%H:%M")
    return time.mktime((*parsed[:5], 0, 0, 0, -1))


async def service_schedule(console: Console, request: Request, login: Login) -> Response:
    alert = await scoped_alert(console, request, login)
    form = await request.form()
    try:
        at = None if form.get("when") == "asap" else parse_local_time(form_text(form, "at", 16))
    except ValueError:
        return back(alert, "invalid")
    if form.get("when") != "asap" and at is None:
        return back(alert, "invalid")
    result = await console.desk().schedule(login.actor, alert["terminal_id"], alert["alert_id"], at)
    return back(alert, "scheduled" if result.applied else "refused")


async def service_assign(console: Console, request: Request, login: Login) -> Response:
    alert = await scoped_alert(console, request, login)
    form = await request.form()
    person = _named(form)
    if person is None:
        providers = await village_providers(console, tuple(alert["region"]))
        record = await console.desk().elders.get(alert["terminal_id"])
        choices = [*providers, *(record.contacts if record else ())]
        raw = form_text(form, "provider", 3) or ""
        if raw.isdigit() and 0 <= int(raw) < len(choices):
            c = choices[int(raw)]
            person = Responder(c.name, c.phone, c.role)
    if person is None:
        return back(alert, "invalid")
    result = await console.desk().assign(login.actor, alert["terminal_id"], alert["alert_id"],
                                         person)  # fmt: skip
    return back(alert, "service_assigned" if result.applied else "refused")


async def service_complete(console: Console, request: Request, login: Login) -> Response:
    alert = await scoped_alert(console, request, login)
    note = form_text(await request.form(), "note", NOTE_MAX)
    result = await console.desk().complete(login.actor, alert["terminal_id"], alert["alert_id"],
                                           note)  # fmt: skip
    return back(alert, "completed" if result.applied else "refused")
