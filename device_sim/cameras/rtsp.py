"""RTSP 1.0 messages (RFC 2326): parsing requests, building responses.

Pure functions over bytes. The head parser is shared with the HTTP control endpoint,
whose messages have the same shape. Anything malformed raises ``RequestError``,
which the connection answers with its status (400 unless said otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

RTSP_VERSION = "RTSP/1.0"
MAX_HEAD_BYTES = 8192
MAX_BODY_BYTES = 8192
MAX_HEADERS = 64

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    501: "Not Implemented",
    505: "RTSP Version Not Supported",
}

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NUMBER = re.compile(r"[0-9]{1,9}")


class RequestError(ValueError):
    """A request that cannot be served as sent; ``status`` is the answer."""

    def __init__(self, reason: str, status: int = 400, cseq: str | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.cseq = cseq


@dataclass(frozen=True, slots=True)
class Request:
    """A parsed request head (and body, once read)."""

    method: str
    uri: str
    version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), if present."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k.lower() == wanted), None)

    @property
    def cseq(self) -> str | None:
        """The ``CSeq`` to echo, when it is a plain number."""
        return _valid_cseq(self.header("CSeq"))

    def content_length(self) -> int:
        """Declared body length; raises ``RequestError`` when invalid or too large."""
        raw = self.header("Content-Length")
        if raw is None:
            return 0
        if not _NUMBER.fullmatch(raw.strip()):
            raise RequestError("bad Content-Length", cseq=self.cseq)
        length = int(raw)
        if length > MAX_BODY_BYTES:
            raise RequestError("body too large", status=413, cseq=self.cseq)
        return length


@dataclass(slots=True)
class Response:
    """A response to encode; ``cseq`` is echoed when known."""

    status: int
    cseq: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    content_type: str | None = None

    def encode(self, version: str = RTSP_VERSION, server: str = "eldercare-camsim") -> bytes:
        """Status line, headers and body, ready for the wire."""
        lines = [f"{version} {self.status} {REASONS.get(self.status, 'Unknown')}"]
        if self.cseq is not None:
            lines.append(f"CSeq: {self.cseq}")
        lines.append(f"Server: {server}")
        lines += [f"{name}: {value}" for name, value in self.headers]
        if self.content_type is not None:
            lines.append(f"Content-Type: {self.content_type}")
        if self.body or self.content_type is not None:
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + self.body


def parse_head(head: bytes, versions: Iterable[str] = (RTSP_VERSION,)) -> Request:
    """Request line and headers of one message; ``head`` ends at the blank line."""
    if len(head) > MAX_HEAD_BYTES:
        raise RequestError("request head too large")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise RequestError("request head is not UTF-8", cseq=_sniff_cseq(head)) from None
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise RequestError("empty request")
    headers = _parse_headers(lines[1:])
    cseq = _valid_cseq(next((v for k, v in headers if k.lower() == "cseq"), None))
    parts = lines[0].split(" ")
    if len(parts) != 3 or not _TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise RequestError("malformed request line", cseq=cseq)
    method, uri, version = parts
    if version not in versions:
        raise RequestError(f"unsupported version {version!r}", status=505, cseq=cseq)
    if any(not ch.isprintable() for ch in uri):
        raise RequestError("malformed request URI", cseq=cseq)
    return Request(method=method, uri=uri, version=version, headers=tuple(headers))


def _parse_headers(lines: Sequence[str]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {line.strip()}")
            continue
        name, sep, value = line.partition(":")
        if not sep or not _TOKEN.fullmatch(name):
            raise RequestError(f"malformed header line {line[:40]!r}")
        value = value.strip()
        if any(ord(ch) < 32 and ch != "\t" for ch in value):
            raise RequestError(f"control character in header {name!r}")
        headers.append((name, value))
        if len(headers) > MAX_HEADERS:
            raise RequestError("too many headers")
    return headers


def _valid_cseq(value: str | None) -> str | None:
    return value if value is not None and _NUMBER.fullmatch(value) else None


def _sniff_cseq(head: bytes) -> str | None:
    match = re.search(rb"(?im)^cseq:[ \t]*([0-9]{1,9})[ \t]*\r?$", head)
    return match.group(1).decode("ascii") if match else None


def error_response(error: RequestError) -> Response:
    """The answer to a request that failed with ``error``."""
    return Response(status=error.status, cseq=error.cseq)


@dataclass(frozen=True, slots=True)
class TransportSpec:
    """The transport a client asked for in SETUP, as the server will use it."""

    tcp: bool
    interleaved: tuple[int, int] = (0, 1)
    client_port: tuple[int, int] = (0, 0)


def parse_transport(value: str | None) -> TransportSpec:
    """The first unicast RTP/AVP transport in a ``Transport`` header.

    Raises ``RequestError`` (461) when none of the offered transports is supported.
    """
    for option in (value or "").split(","):
        params = [p.strip() for p in option.split(";") if p.strip()]
        if not params or "multicast" in (p.lower() for p in params):
            continue
        profile = params[0].upper()
        fields = dict(_param(p) for p in params[1:])
        if profile == "RTP/AVP/TCP":
            pair = _pair(fields.get("interleaved"), default=(0, 1))
            if pair is not None and max(pair) <= 255:
                return TransportSpec(tcp=True, interleaved=pair)
        elif profile in {"RTP/AVP", "RTP/AVP/UDP"}:
            ports = _pair(fields.get("client_port"), default=None)
            if ports is not None and min(ports) > 0 and max(ports) <= 65535:
                return TransportSpec(tcp=False, client_port=ports)
    raise RequestError("no supported transport", status=461)


def _param(text: str) -> tuple[str, str]:
    key, _, value = text.partition("=")
    return key.strip().lower(), value.strip()


def _pair(text: str | None, default: tuple[int, int] | None) -> tuple[int, int] | None:
    if text is None:
        return default
    first, _, second = text.partition("-")
    if not _NUMBER.fullmatch(first) or (second and not _NUMBER.fullmatch(second)):
        return None
    low = int(first)
    return low, int(second) if second else low + 1
