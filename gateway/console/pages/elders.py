"""Elders' records (admins): the list of a region, one record's form, and CSV import.

The access instructions are never put back into the form: an admin types new ones (or
clears them); nobody reads them here. Every save and import is audited.
"""

from __future__ import annotations

from dataclasses import replace

from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.console.context import Console
from gateway.console.sessions import Login
from gateway.core.elders import CONTACT_ROLES, MAX_CONTACTS, Contact, ElderRecord, RecordError
from gateway.dispatch.elders_csv import parse_elders
from gateway.http.auth import in_scope
from gateway.registry import Terminal

ELDERS_PATH = "/console/elders"
SHOWN = 200
#: Empty contact rows the form offers beyond the filled ones.
SPARE_ROWS = 3
MAX_UPLOAD = 64 * 1024 * 1024


def _terminals(console: Console, login: Login, query: str = "") -> list[Terminal]:
    q = query.strip().lower()
    found = [
        t for t in console.registry.values()
        if in_scope(login.region, t.region)
        and (not q or q in t.terminal_id.lower() or q in t.elder_name.lower()
             or any(q in part.lower() for part in t.region[1:]))
    ]  # fmt: skip
    return sorted(found, key=lambda t: (t.region, t.terminal_id))


async def elders_page(
    console: Console, request: Request, login: Login, error: str = "", status: int = 200
) -> Response:
    query = request.query_params.get("q", "")
    matching = _terminals(console, login, query)
    shown = matching[:SHOWN]
    summaries = await console.desk().elders.summaries(t.terminal_id for t in shown)
    return console.render(
        request, "elders.html", login, status, terminals=shown, total=len(matching),
        summaries=summaries, query=query, error=error,
        done=request.query_params.get("done", ""), counts=dict(request.query_params),
    )  # fmt: skip


async def elders_list(console: Console, request: Request, login: Login) -> Response:
    return await elders_page(console, request, login)


async def elders_import(console: Console, request: Request, login: Login) -> Response:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await elders_page(console, request, login, "elders.no_file", 400)
    try:
        raw = await upload.read(MAX_UPLOAD + 1)
    finally:
        await form.close()
    known = {t.terminal_id for t in _terminals(console, login)}
    try:
        if len(raw) > MAX_UPLOAD:
            raise RecordError(f"{upload.filename}: larger than {MAX_UPLOAD // 2**20} MiB")
        records = parse_elders(raw.decode("utf-8"), known, upload.filename)
    except (RecordError, UnicodeDecodeError) as exc:
        return await elders_page(console, request, login, str(exc), 400)
    counts = await console.desk().elders.import_records(
        records, login.username, f"console upload {upload.filename}", console.clock()
    )
    query = "&".join(f"{key}={value}" for key, value in counts.items())
    return RedirectResponse(f"{ELDERS_PATH}?done=imported&{query}", 303)


def _terminal(console: Console, request: Request, login: Login) -> Terminal:
    terminal = console.registry.get(request.path_params["terminal_id"])
    if terminal is None or not in_scope(login.region, terminal.region):
        raise HTTPException(404, "error.not_found")
    return terminal


async def _edit_page(
    console: Console, request: Request, login: Login, terminal: Terminal,
    record: ElderRecord | None, error: str = "", status: int = 200,
) -> Response:  # fmt: skip
    desk = console.desk()
    stored = await desk.elders.get(terminal.terminal_id, with_access=True)
    contacts = list(record.contacts if record else ())
    rows: list[Contact | None] = [*contacts, *([None] * SPARE_ROWS)][: max(MAX_CONTACTS, 1)]
    return console.render(
        request, "elder_edit.html", login, status, terminal=terminal,
        record=record or ElderRecord(terminal.terminal_id), rows=rows, roles=CONTACT_ROLES,
        has_access=bool(stored and stored.access), error=error,
        done=request.query_params.get("done", ""),
    )  # fmt: skip


async def elder_form(console: Console, request: Request, login: Login) -> Response:
    terminal = _terminal(console, request, login)
    record = await console.desk().elders.get(terminal.terminal_id)
    return await _edit_page(console, request, login, terminal, record)


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def contacts_from(form: FormData) -> tuple[Contact, ...]:
    """The form's contact rows with a name, in the order their ``order`` fields say."""
    rows: list[tuple[float, int, Contact]] = []
    for n in range(MAX_CONTACTS):
        name = _field(form, f"contact_name_{n}")
        if not name:
            continue
        try:
            order = float(_field(form, f"contact_order_{n}") or n + 1)
        except ValueError:
            order = n + 1
        contact = Contact(
            name, _field(form, f"contact_role_{n}"), _field(form, f"contact_phone_{n}")
        )
        rows.append((order, n, contact))
    return tuple(c for _, _, c in sorted(rows, key=lambda r: (r[0], r[1])))


def record_from(form: FormData, terminal_id: str, stored_access: str) -> ElderRecord:
    """The record the form describes; the access text is kept unless replaced or cleared."""
    access = stored_access
    if form.get("access_clear"):
        access = ""
    elif _field(form, "access_new"):
        access = _field(form, "access_new")
    return ElderRecord(
        terminal_id, _field(form, "address"), access, _field(form, "medical"),
        _field(form, "language"), bool(form.get("lives_alone")), contacts_from(form),
    )  # fmt: skip


async def elder_save(console: Console, request: Request, login: Login) -> Response:
    terminal = _terminal(console, request, login)
    desk = console.desk()
    form = await request.form()
    stored = await desk.elders.get(terminal.terminal_id, with_access=True)
    record = record_from(form, terminal.terminal_id, stored.access if stored else "")
    try:
        await desk.save_record(login.actor, record)
    except RecordError as exc:
        shown = replace(record, access="")
        return await _edit_page(console, request, login, terminal, shown, str(exc), 400)
    path = f"{ELDERS_PATH}/{terminal.terminal_id}"
    return RedirectResponse(f"{path}?done=saved", 303)
