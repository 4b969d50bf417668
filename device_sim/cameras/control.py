"""HTTP control endpoint: list cameras and inject faults while the farm runs.

    GET    /cameras                   {"cameras": [row, ...]}
    GET    /cameras/{id}              row
    POST   /cameras/{id}/fault        body {"fault": "frozen"} -> row   ("none" clears)
    DELETE /cameras/{id}/fault        clears -> row
    GET    /faults                    {"faults": ["none", "offline", ...]}
    GET    /manifest                  the farm manifest

One request per connection, answered with ``Connection: close``. It is a handful
of routes on the same message parser the RTSP side uses, so it shares the farm's
task group instead of bringing a second server framework into the process.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from device_sim.cameras.camera import CameraInfo, bind_socket
from device_sim.cameras.faults import Fault, parse_fault
from device_sim.cameras.rtsp import RequestError, Response, parse_head

logger = logging.getLogger(__name__)

HTTP_VERSIONS = ("HTTP/1.1", "HTTP/1.0")
_LIMIT = 16384


class FarmControl(Protocol):
    """What the endpoint drives."""

    def cameras(self) -> list[CameraInfo]: ...

    def manifest(self) -> dict[str, Any]: ...

    async def set_fault(self, camera_id: str, fault: Fault) -> CameraInfo: ...


Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None] | None"]


async def route(farm: FarmControl, method: str, path: str, body: bytes) -> tuple[int, Any]:
    """``(status, JSON body)`` for one request."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts == ["cameras"] and method == "GET":
        return 200, {"cameras": [info.to_json() for info in farm.cameras()]}
    if parts == ["faults"] and method == "GET":
        return 200, {"faults": [fault.value for fault in Fault]}
    if parts == ["manifest"] and method == "GET":
        return 200, farm.manifest()
    if len(parts) < 2 or parts[0] != "cameras" or len(parts) > 3:
        return 404, {"error": "no such route"}
    rows = {info.camera_id: info for info in farm.cameras()}
    if parts[1] not in rows:
        return 404, {"error": f"unknown camera {parts[1]!r}"}
    if len(parts) == 2 and method == "GET":
        return 200, rows[parts[1]].to_json()
    if len(parts) == 3 and parts[2] == "fault" and method in {"POST", "PUT", "DELETE"}:
        return await _set_fault(farm, parts[1], body if method != "DELETE" else b"")
    return 405, {"error": f"{method} not allowed here"}


async def _set_fault(farm: FarmControl, camera_id: str, body: bytes) -> tuple[int, Any]:
    try:
        data = json.loads(body) if body.strip() else {"fault": "none"}
        if not isinstance(data, dict) or not isinstance(data.get("fault"), str):
            raise ValueError('body must be {"fault": "<name>"}')
        fault = parse_fault(data["fault"])
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        return 400, {"error": str(exc)}
    try:
        info = await farm.set_fault(camera_id, fault)
    except RuntimeError as exc:
        return 500, {"error": str(exc)}
    return 200, info.to_json()


class ControlServer:
    """Serves ``route`` over HTTP/1.1 on ``host:port`` (0 picks a free port)."""

    def __init__(self, farm: FarmControl, host: str, port: int) -> None:
        self._farm = farm
        self._sock = bind_socket(host, port, listen=True)
        self._host = host
        self._port: int = self._sock.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._spawn: Spawn | None = None

    @property
    def url(self) -> str:
        """``http://host:port``."""
        shown = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{shown}:{self._port}"

    async def start(self, spawn: Spawn) -> None:
        """Start accepting; each request is handled in a task made by ``spawn``."""
        self._spawn = spawn
        self._server = await asyncio.start_server(self._accept, sock=self._sock, limit=_LIMIT)

    def close(self) -> None:
        """Stop accepting."""
        if self._server is not None:
            self._server.close()
        self._sock.close()

    def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._spawn is None or self._spawn(self._handle(reader, writer), "control") is None:
            writer.transport.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            response = await self._respond(reader)
            writer.write(response.encode(version="HTTP/1.1"))
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            logger.debug("control connection ended: %r", exc)
        except Exception:  # one bad request must not stop the farm
            logger.exception("control request failed")
        finally:
            writer.close()

    async def _respond(self, reader: asyncio.StreamReader) -> Response:
        try:
            request = parse_head(await reader.readuntil(b"\r\n\r\n"), HTTP_VERSIONS)
            body = await reader.readexactly(request.content_length())
        except RequestError as exc:
            return _json_response(exc.status, {"error": str(exc)})
        except asyncio.LimitOverrunError:
            return _json_response(400, {"error": "request head too large"})
        status, payload = await route(self._farm, request.method, request.uri, body)
        return _json_response(status, payload)


def _json_response(status: int, payload: Any) -> Response:
    body = json.dumps(payload, indent=2).encode("utf-8") + b"\n"
    return Response(
        status,
        headers=[("Connection", "close")],
        body=body,
        content_type="application/json",
    )
