"""The API of elders' records: read (without access instructions), replace, and the
access instructions on request (audited)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.core.elders import Contact, ElderRecord, RecordError
from gateway.http.auth import require
from gateway.http.bodies import Body, desk, read_body, scoped_terminal

EDITING = frozenset({"admin", "integration"})
SEEING_ACCESS = frozenset({"operator", "admin"})


class ContactBody(Body):
    name: str = Field(min_length=1, max_length=64)
    role: str = Field(description="relative, neighbour, grid_worker, doctor, volunteer …")
    phone: str = Field(min_length=3, max_length=32)


class ElderBody(Body):
    address: str = Field("", max_length=200)
    access: str = Field("", max_length=200, description="Key safe, door code: shown on request.")
    medical: str = Field("", max_length=1000)
    language: str = Field("", max_length=64, description="Language or dialect to speak.")
    lives_alone: bool = False
    contacts: list[ContactBody] = Field(default_factory=list, description="In calling order.")


class AccessBody(Body):
    reason: str = Field(min_length=1, max_length=200, description="Why it is needed (audited).")


def record_json(record: ElderRecord | None, terminal_id: str) -> dict[str, Any]:
    doc = asdict(record or ElderRecord(terminal_id))
    doc.pop("access")
    doc["has_access"] = bool(record and record.access)
    return doc


async def get_elder(request: Request) -> JSONResponse:
    actor = await require(request)
    terminal = scoped_terminal(request, actor)
    record = await desk(request).elders.get(terminal.terminal_id, with_access=True)
    return JSONResponse(record_json(record, terminal.terminal_id))


async def put_elder(request: Request) -> JSONResponse:
    actor = await require(request, EDITING)
    terminal = scoped_terminal(request, actor)
    body = await read_body(request, ElderBody)
    record = ElderRecord(
        terminal.terminal_id, body.address, body.access, body.medical, body.language,
        body.lives_alone, tuple(Contact(c.name, c.role, c.phone) for c in body.contacts),
    )  # fmt: skip
    try:
        changed = await desk(request).save_record(actor, record)
    except RecordError as exc:
        raise HTTPException(422, str(exc)) from exc
    return JSONResponse({"applied": True, "changed": changed})


async def access(request: Request) -> JSONResponse:
    actor = await require(request, SEEING_ACCESS)
    terminal = scoped_terminal(request, actor)
    body = await read_body(request, AccessBody)
    text = await desk(request).access(actor, terminal.terminal_id, body.reason)
    return JSONResponse({"access": text})


def elder_routes() -> list[Route]:
    elder = "/api/v1/elders/{terminal_id}"
    return [
        Route(elder, get_elder),
        Route(elder, put_elder, methods=["PUT"]),
        Route(elder + "/access", access, methods=["POST"]),
    ]
