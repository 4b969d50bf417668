"""The OpenAPI 3.1 description of the JSON API under ``/api/v1``.

Request bodies come from the pydantic models the API validates with, so they cannot
drift; paths, parameters and responses are written out here. A unit test checks that
every route of :func:`gateway.http.api.api_routes` is described.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gateway.console.sessions import COOKIE
from gateway.http.api import AcceptBody, AssignBody, CallBackBody, ResolveBody
from gateway.http.dispatch import AnswerBody, ReassignBody
from gateway.http.elders import AccessBody, ContactBody, ElderBody
from gateway.http.services import CompleteBody, ScheduleBody, ServiceAssignBody

BASE = "/api/v1"
REF = "#/components/schemas/{model}"
ACTING = "Roles: operator, admin, integration."
STRING = {"type": "string"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _path_params(*names: str) -> list[dict[str, Any]]:
    return [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in names
    ]


CSRF_HEADER = {
    "name": "X-CSRF-Token",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The session's CSRF token; required when authenticated by the cookie.",
}
ERRORS = {
    "401": {"description": "No valid bearer token or session."},
    "403": {"description": "Role not allowed, or CSRF token missing (cookie auth)."},
    "404": {"description": "Unknown, or outside the caller's region."},
}


def _post(
    summary: str,
    body: str | None,
    params: list[dict[str, Any]],
    ok: dict[str, Any],
    description: str = ACTING,
    status: str = "200",
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "description": description,
        "parameters": [*params, CSRF_HEADER],
        "responses": {status: ok, **ERRORS},
    }
    if body is not None:
        op["requestBody"] = {
            "required": False,
            "content": {"application/json": {"schema": _ref(body)}},
        }
        op["responses"]["422"] = {"description": "Body failed validation."}
    return op


def _alert_paths() -> dict[str, Any]:
    alert = _path_params("terminal_id", "alert_id")
    applied = _json("Whether the stage moved, and the stage now.", _ref("Applied"))
    return {
        f"{BASE}/alerts": {
            "get": {
                "summary": "List alarms in the caller's region, newest first.",
                "parameters": [
                    {
                        "name": "open",
                        "in": "query",
                        "schema": {"type": "string", "enum": ["0", "1"], "default": "1"},
                        "description": "1: unresolved only.",
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "default": 200, "maximum": 1000},
                    },
                ],
                "responses": {
                    "200": _json(
                        "Alarms.",
                        {
                            "type": "object",
                            "properties": {"alerts": {"type": "array", "items": _ref("Alert")}},
                        },
                    ),
                    **ERRORS,
                },
            }
        },
        f"{BASE}/alerts/{{terminal_id}}/{{alert_id}}": {
            "get": {
                "summary": "One alarm with its timeline.",
                "parameters": alert,
                "responses": {"200": _json("The alarm.", _ref("Alert")), **ERRORS},
            }
        },
        f"{BASE}/alerts/{{terminal_id}}/{{alert_id}}/accept": {
            "post": _post("Accept: a responder is on the way.", "AcceptBody", alert, applied)
        },
        f"{BASE}/alerts/{{terminal_id}}/{{alert_id}}/resolve": {
            "post": _post("Resolve the alarm.", "ResolveBody", alert, applied)
        },
        f"{BASE}/alerts/{{terminal_id}}/{{alert_id}}/assign": {
            "post": _post(
                "Assign a responder (timeline entry).",
                "AssignBody",
                alert,
                _json("Recorded.", _ref("Applied")),
            )
        },
    }


def _other_paths() -> dict[str, Any]:
    return {
        f"{BASE}/terminals/{{terminal_id}}/call-back": {
            "post": _post(
                "Ask the terminal to call back.",
                "CallBackBody",
                _path_params("terminal_id"),
                _json("Command sent.", {"type": "object", "properties": {"cmd_id": STRING}}),
                ACTING + " 503 when the broker is not reachable.",
                "202",
            )
        },
        f"{BASE}/outbox/dead": {
            "get": {
                "summary": "Events the command center never confirmed (dead letters).",
                "description": "Roles: admin, technician, integration.",
                "responses": {"200": _json("Dead letters.", {"type": "object"}), **ERRORS},
            }
        },
        f"{BASE}/outbox/dead/{{sink}}/{{event_id}}/retry": {
            "post": _post(
                "Retry one dead letter.",
                None,
                _path_params("sink", "event_id"),
                _json("Queued again.", _ref("Applied")),
                "Roles: admin, technician.",
            )
        },
        f"{BASE}/quarantine": {
            "get": {
                "summary": "Messages intake failed on, set aside for inspection.",
                "description": "Roles: admin, technician, integration. Newest first; each"
                " with its topic, payload, the error, when first and last seen and how often."
                " A set-aside message is dropped on sight when its terminal sends it again.",
                "parameters": [
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": 1000,
                            "default": 100,
                        },
                    }
                ],
                "responses": {"200": _json("Set-aside messages.", {"type": "object"}), **ERRORS},
            }
        },
        f"{BASE}/registry/reload": {
            "post": _post(
                "Put the registry file in force now (terminals added, moved, removed).",
                None,
                [],
                _json("Applied, with counts; 422 names the line at fault.", {"type": "object"}),
                "Roles: admin, integration; scoped to the whole site.",
            )
        },
        f"{BASE}/openapi.json": {
            "get": {
                "summary": "This document.",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1."}},
            }
        },
    }


def _camera_paths() -> dict[str, Any]:
    camera = _path_params("camera_id")
    return {
        f"{BASE}/cameras": {
            "get": {
                "summary": "Every camera in the caller's region: state, faults, last probe.",
                "responses": {"200": _json("Cameras.", {"type": "object"}), **ERRORS},
            }
        },
        f"{BASE}/cameras/{{camera_id}}/history": {
            "get": {
                "summary": "Recent probes of one camera.",
                "parameters": camera,
                "responses": {"200": _json("Probes, oldest first.", {"type": "object"}), **ERRORS},
            }
        },
        f"{BASE}/cameras/{{camera_id}}/snapshot.jpg": _jpeg(
            "The camera's latest good frame.", camera
        ),
        f"{BASE}/cameras/{{camera_id}}/current.jpg": _jpeg(
            "The frame of the camera's latest probe, fault or not.", camera
        ),
    }


def _jpeg(summary: str, parameters: list[dict[str, Any]]) -> dict[str, Any]:
    jpeg = {"description": "JPEG.", "content": {"image/jpeg": {}}}
    return {
        "get": {"summary": summary, "parameters": parameters, "responses": {"200": jpeg, **ERRORS}}
    }


CONFLICT = {"409": _json("Nothing changed (the reason says why).", _ref("Applied"))}
OBJECT = {"type": "object"}


def _dispatch_paths() -> dict[str, Any]:
    alert = _path_params("terminal_id", "alert_id")
    seq = f"{BASE}/alerts/{{terminal_id}}/{{alert_id}}/dispatch"
    applied = _json("The sequence's status now.", _ref("Applied"))
    answer = _post(
        "A responder accepts or declines the call they were sent (alert.dispatch).",
        "AnswerBody", [], applied,
        "No bearer token or session: the call's one-time token in the body is the"
        " credential. 404 for an unknown token; 409 when the call no longer waits"
        " for an answer. An accept tells the elder's terminal 'accepted' with the name.",
    )  # fmt: skip
    answer["security"] = [{}]  # anonymous: the token in the body is the credential
    answer["parameters"] = []
    answer["responses"].update(CONFLICT)
    control = {
        "skip": "Skip the responder being called; the next one is called.",
        "take-over": "Take the alarm over: no more automatic calls.",
    }
    paths: dict[str, Any] = {
        f"{BASE}/responders/answer": {"post": answer},
        seq: {
            "get": {
                "summary": "The alarm's responder call sequence with every attempt.",
                "parameters": alert,
                "responses": {"200": _json("The sequence.", OBJECT), **ERRORS},
            }
        },
        seq + "/reassign": {
            "post": {
                **_post(
                    "Call another responder now (a listed contact or anyone).",
                    "ReassignBody",
                    alert,
                    applied,
                ),
            }
        },
    }
    for name, summary in control.items():
        paths[f"{seq}/{name}"] = {"post": _post(summary, None, alert, applied)}
    for item in (paths[seq + "/reassign"], paths[seq + "/skip"], paths[seq + "/take-over"]):
        item["post"]["responses"].update(CONFLICT)
    return paths


def _elder_paths() -> dict[str, Any]:
    terminal = _path_params("terminal_id")
    elder = f"{BASE}/elders/{{terminal_id}}"
    put = _post(
        "Replace the elder's record and contacts (audited, field names only).",
        "ElderBody", terminal,
        _json("Which fields changed.", {"type": "object", "properties": {
            "applied": {"type": "boolean"}, "changed": {"type": "array", "items": STRING}}}),
        "Roles: admin, integration.",
    )  # fmt: skip
    return {
        elder: {
            "get": {
                "summary": "The elder's record: address, medical notes, language, contacts"
                " (access instructions are never included).",
                "parameters": terminal,
                "responses": {"200": _json("The record.", OBJECT), **ERRORS},
            },
            "put": put,
        },
        elder + "/access": {
            "post": _post(
                "The access instructions (key safe, door code); every call is audited.",
                "AccessBody",
                terminal,
                _json("The text.", {"type": "object", "properties": {"access": STRING}}),
                "Roles: operator, admin.",
            )
        },
    }


def _service_paths() -> dict[str, Any]:
    alert = _path_params("terminal_id", "alert_id")
    base = f"{BASE}/alerts/{{terminal_id}}/{{alert_id}}/service"
    done = _json("Applied.", _ref("Applied"))
    steps = {
        "schedule": ("Serve at a time (or asap).", "ScheduleBody"),
        "assign": ("Assign a volunteer or provider; the terminal hears 'accepted'.",
                   "ServiceAssignBody"),
        "complete": ("Served: the terminal hears 'resolved' with the note.", "CompleteBody"),
    }  # fmt: skip
    paths: dict[str, Any] = {
        f"{BASE}/service-requests": {
            "get": {
                "summary": "Open service requests (meal, errand, nursing, mobility) in the"
                " caller's region, oldest first.",
                "responses": {"200": _json("Requests.", OBJECT), **ERRORS},
            }
        }
    }
    for name, (summary, body) in steps.items():
        op = _post(summary, body, alert, done)
        op["responses"].update(CONFLICT)
        paths[f"{base}/{name}"] = {"post": op}
    return paths


def _report_paths() -> dict[str, Any]:
    query = [
        {"name": "region", "in": "query", "schema": STRING,
         "description": "district/town/village inside the caller's region; default: it."},
        {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"},
         "description": "First day (local), YYYY-MM-DD; default: 6 days before 'to'."},
        {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"},
         "description": "Last day (local), YYYY-MM-DD; default: today."},
    ]  # fmt: skip
    return {
        f"{BASE}/reports": {
            "get": {
                "summary": "Supervisors' figures by area for a period: alarms by kind, time"
                " to accept (p50/p90, share within 60 s), time to resolve, escalations,"
                " unanswered calls, terminals offline, services completed.",
                "parameters": query,
                "responses": {"200": _json("The report.", OBJECT),
                              "422": {"description": "Bad period."}, **ERRORS},
            }
        }
    }  # fmt: skip


def _schemas() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        AcceptBody, ResolveBody, AssignBody, CallBackBody, AnswerBody, ReassignBody, ElderBody,
        ContactBody, AccessBody, ScheduleBody, ServiceAssignBody, CompleteBody,
    ]  # fmt: skip
    schemas = {m.__name__: m.model_json_schema(ref_template=REF) for m in models}
    schemas["Applied"] = {
        "type": "object",
        "properties": {"applied": {"type": "boolean"}, "stage": {"type": ["string", "null"]}},
    }
    schemas["Alert"] = {
        "type": "object",
        "properties": {
            "terminal_id": {"type": "string"},
            "alert_id": {"type": "string"},
            "kind": {
                "type": "string",
                "enum": ["emergency", "nursing", "meal", "mobility", "medical", "errand"],
            },
            "origin": {"type": "string", "enum": ["terminal", "vitals"]},
            "pressed_at": {"type": "number"},
            "received_at": {"type": "number"},
            "stage": {"type": "string", "enum": ["received", "delivered", "accepted", "resolved"]},
            "region": {"type": "array", "items": {"type": "string"}},
            "accepted_by": {"type": ["string", "null"]},
            "eta_s": {"type": ["integer", "null"]},
            "escalation_level": {"type": "integer"},
            "updated_at": {"type": "number"},
            "detail": {"type": "object"},
            "timeline": {"type": "array", "items": {"type": "object"}},
        },
    }
    return schemas


_SIGNED = (
    "Standard Webhooks: `webhook-id`, `webhook-timestamp` (Unix seconds) and"
    " `webhook-signature` (`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the shared"
    " `whsec_` secret). Verify the signature and reject timestamps older than 5 minutes."
    " Answer 2xx only once the events are stored: that is the confirmation the gateway"
    " waits for (and tells the elder's terminal as `delivered`). 400, 410, 413 and 422"
    " refuse the payload for good (the gateway then sends the batch's events one by one"
    " and dead-letters only those refused alone); anything else is retried with backoff"
    " for `webhook.retry_for_h`. Events can arrive more than once and out of order:"
    " deduplicate on each event's `event_id`."
)


def _webhooks() -> dict[str, Any]:
    """What the gateway POSTs to the command center (``[webhook] url``)."""
    body = {"oneOf": [_ref("EventBatch"), _ref("Event")]}
    return {
        "events": {
            "post": {
                "summary": "Events for the command center, many per request.",
                "description": "With `webhook.format = \"batch\"` (the default) one request"
                " carries up to `webhook.batch_max` events and `webhook-id` is the batch id;"
                " alarms are sent at once, telemetry waits up to `webhook.linger_s` to fill"
                " a batch. With `\"event\"` each request is one Event and `webhook-id` is"
                " its `event_id`. " + _SIGNED,
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": body}}},
                "responses": {
                    "2XX": {"description": "Stored: the events are confirmed."},
                    "4XX": {"description": "400/410/413/422: refused for good; else retried."},
                    "5XX": {"description": "Retried with backoff."},
                },
            }
        }
    }  # fmt: skip


def _event_schemas() -> dict[str, Any]:
    number, text = {"type": "number"}, {"type": "string"}
    event = {
        "type": "object",
        "required": ["event_id", "type", "occurred_at", "source", "region", "data"],
        "properties": {
            "event_id": {**text, "description": "Stable across retries: the dedup key."},
            "type": {**text, "description": "alert, alert.accepted, alert.resolved,"
                     " alert.cancelled, alert.escalated, alert.dispatch (call a responder),"
                     " alert.dispatch.accepted, alert.dispatch.cancelled, service.assigned,"
                     " health, selftest, terminal.offline, terminal.restored,"
                     " terminal.flapping, terminal.selftest_missed, camera.* …"},
            "occurred_at": number,
            "source": {**text, "description": "Terminal or camera id."},
            "region": {"type": "array", "items": text,
                       "description": "[district, town, community/village]"},
            "data": {"type": "object", "description": "Depends on `type`."},
        },
    }  # fmt: skip
    batch = {
        "type": "object",
        "required": ["type", "batch_id", "sent_at", "count", "events"],
        "properties": {
            "type": {"const": "batch"},
            "batch_id": {**text, "description": "Equals the `webhook-id` header."},
            "sent_at": {**text, "format": "date-time"},
            "count": {"type": "integer", "minimum": 1},
            "events": {"type": "array", "items": _ref("Event"), "minItems": 1},
        },
    }
    return {"Event": event, "EventBatch": batch}


def openapi_spec(title: str = "Eldercare gateway API", version: str = "1") -> dict[str, Any]:
    """The whole document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "Alarms, terminals and cameras of one gateway, scoped to the"
            " caller's region (district → town → village).",
        },
        "paths": {
            **_alert_paths(),
            **_other_paths(),
            **_camera_paths(),
            **_dispatch_paths(),
            **_elder_paths(),
            **_service_paths(),
            **_report_paths(),
        },
        "webhooks": _webhooks(),
        "components": {
            "schemas": {**_schemas(), **_event_schemas()},
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API token from the gateway's api.tokens.",
                },
                "cookieAuth": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": COOKIE,
                    "description": "A console session; unsafe methods also need"
                    " the X-CSRF-Token header.",
                },
            },
        },
        "security": [{"bearerAuth": []}, {"cookieAuth": []}],
    }
