"""A cheap RTSP reachability check: OPTIONS and DESCRIBE over a raw socket.

OpenCV only says "could not open"; this tells refused, timeout, 401 and 404 apart before
the decoder is started. Digest (MD5, SHA-256, ``-sess``) and Basic authentication are
answered. Building, parsing and authentication are pure; :func:`check` is the only I/O.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from gateway.cameras.probe import ProbeOutcome

USER_AGENT = "eldercare-gateway"
_MAX_HEADER_BYTES = 64 * 1024
_MAX_BODY_BYTES = 1024 * 1024
_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


class RtspProtocolError(Exception):
    """The peer's answer is not RTSP."""


class _PeerClosed(RtspProtocolError):
    """The peer closed the connection."""

    def __init__(self) -> None:
        super().__init__("connection closed by the camera")


@dataclass(frozen=True, slots=True)
class RtspResponse:
    """A parsed response; header names are lower-case and may repeat."""

    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of a header, or ``None``."""
        return next((v for k, v in self.headers if k == name.lower()), None)

    def all(self, name: str) -> list[str]:
        """Every value of a (repeatable) header."""
        return [v for k, v in self.headers if k == name.lower()]


@dataclass(frozen=True, slots=True)
class StreamCheck:
    """Result of :func:`check`."""

    outcome: ProbeOutcome
    status: int | None
    detail: str
    seconds: float


def build_request(method: str, url: str, cseq: int, headers: Mapping[str, str]) -> bytes:
    """One RTSP/1.0 request without a body."""
    lines = [f"{method} {url} RTSP/1.0", f"CSeq: {cseq}", f"User-Agent: {USER_AGENT}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def parse_head(head: bytes) -> RtspResponse:
    """Status line and headers (everything before the blank line)."""
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RtspProtocolError("response is not text") from exc
    status_line, *header_lines = text.split("\r\n")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("RTSP/") or not parts[1].isdigit():
        raise RtspProtocolError(f"not an RTSP status line: {status_line[:80]!r}")
    headers = []
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip().lower(), value.strip()))
    return RtspResponse(int(parts[1]), parts[2] if len(parts) > 2 else "", tuple(headers))


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``'Digest realm="x", nonce="y"'`` -> ``("digest", {"realm": "x", "nonce": "y"})``."""
    scheme, _, rest = header.strip().partition(" ")
    params = {}
    for key, value in _PARAM.findall(rest):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key.lower()] = value
    return scheme.lower(), params


def digest_response(
    params: Mapping[str, str],
    method: str,
    uri: str,
    username: str,
    password: str,
    cnonce: str,
    nc: str = "00000001",
) -> str:
    """The ``response`` value of RFC 7616 / RFC 2617 Digest for a challenge's params."""
    algorithm = params.get("algorithm", "MD5").upper()
    name = "sha256" if algorithm.startswith("SHA-256") else "md5"

    def digest(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    nonce = params.get("nonce", "")
    ha1 = digest(f"{username}:{params.get('realm', '')}:{password}")
    if algorithm.endswith("-SESS"):
        ha1 = digest(f"{ha1}:{nonce}:{cnonce}")
    ha2 = digest(f"{method}:{uri}")
    qop = _choose_qop(params)
    if qop is None:
        return digest(f"{ha1}:{nonce}:{ha2}")
    return digest(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def authorization(
    challenges: Sequence[str], method: str, uri: str, username: str, password: str
) -> str | None:
    """An ``Authorization`` value answering the best challenge (Digest over Basic)."""
    parsed = [parse_challenge(c) for c in challenges]
    for scheme, params in parsed:
        if scheme == "digest":
            return _digest_header(params, method, uri, username, password)
    if any(scheme == "basic" for scheme, _ in parsed):
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        return f"Basic {token}"
    return None


def _digest_header(
    params: Mapping[str, str], method: str, uri: str, username: str, password: str
) -> str:
    cnonce = secrets.token_hex(8)
    response = digest_response(params, method, uri, username, password, cnonce)
    fields = {
        "username": username,
        "realm": params.get("realm", ""),
        "nonce": params.get("nonce", ""),
        "uri": uri,
        "response": response,
    }
    text = ", ".join(f'{k}="{_quote(v)}"' for k, v in fields.items())
    if "algorithm" in params:
        text += f", algorithm={params['algorithm']}"
    qop = _choose_qop(params)
    if qop is not None:
        text += f', qop={qop}, nc=00000001, cnonce="{cnonce}"'
    if "opaque" in params:
        text += f', opaque="{_quote(params["opaque"])}"'
    return f"Digest {text}"


def _choose_qop(params: Mapping[str, str]) -> str | None:
    offered = [q.strip() for q in params.get("qop", "").split(",") if q.strip()]
    return "auth" if "auth" in offered else None


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def classify(status: int) -> ProbeOutcome:
    """The probe outcome an RTSP status code means."""
    if 200 <= status < 300:
        return ProbeOutcome.REACHABLE
    if status in (401, 403):
        return ProbeOutcome.AUTH_FAILED
    if status == 404:
        return ProbeOutcome.NOT_FOUND
    return ProbeOutcome.ERROR


def check(url: str, username: str | None, password: str | None, timeout: float) -> StreamCheck:
    """OPTIONS then DESCRIBE ``url``, authenticating if challenged; all within ``timeout``."""
    started = time.monotonic()
    try:
        status, reason = _describe(url, username, password, started + timeout)
    except ConnectionRefusedError:
        return StreamCheck(ProbeOutcome.REFUSED, None, "connection refused", _since(started))
    except TimeoutError:
        return StreamCheck(ProbeOutcome.TIMEOUT, None, "no RTSP answer in time", _since(started))
    except socket.gaierror as exc:
        return StreamCheck(ProbeOutcome.UNREACHABLE, None, f"host unknown: {exc}", _since(started))
    except RtspProtocolError as exc:
        return StreamCheck(ProbeOutcome.ERROR, None, str(exc), _since(started))
    except OSError as exc:
        detail = exc.strerror or type(exc).__name__
        return StreamCheck(ProbeOutcome.UNREACHABLE, None, detail, _since(started))
    outcome = classify(status)
    detail = "" if outcome is ProbeOutcome.REACHABLE else f"RTSP {status} {reason}".strip()
    return StreamCheck(outcome, status, detail, _since(started))


def _since(started: float) -> float:
    return time.monotonic() - started


def _describe(
    url: str, username: str | None, password: str | None, deadline: float
) -> tuple[int, str]:
    parts = urlsplit(url)
    address = (parts.hostname or "", parts.port or 554)
    with _Connection(address, deadline) as conn:
        conn.exchange(build_request("OPTIONS", url, 1, {}))
        accept = {"Accept": "application/sdp"}
        reply = conn.exchange(build_request("DESCRIBE", url, 2, accept))
        if reply.status == 401 and username is not None:
            challenges = reply.all("www-authenticate")
            answer = authorization(challenges, "DESCRIBE", url, username, password or "")
            if answer is not None:
                headers = {**accept, "Authorization": answer}
                reply = conn.exchange(build_request("DESCRIBE", url, 3, headers))
        return reply.status, reply.reason


class _Connection:
    """One TCP connection with an absolute deadline; reconnects once if the peer hung up."""

    def __init__(self, address: tuple[str, int], deadline: float) -> None:
        self._address = address
        self._deadline = deadline
        self._sock: socket.socket | None = None
        self._buffer = b""

    def __enter__(self) -> _Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._sock is not None:
            self._sock.close()

    def exchange(self, request: bytes) -> RtspResponse:
        try:
            return self._send_and_read(request)
        except _PeerClosed:
            self._reconnect()
            return self._send_and_read(request)

    def _send_and_read(self, request: bytes) -> RtspResponse:
        if self._sock is None:
            self._reconnect()
        assert self._sock is not None
        self._sock.settimeout(self._remaining())
        self._sock.sendall(request)
        head = self._read_until(b"\r\n\r\n")
        response = parse_head(head)
        length_text = response.header("content-length") or "0"
        if not length_text.isdigit() or int(length_text) > _MAX_BODY_BYTES:
            raise RtspProtocolError(f"bad Content-Length {length_text[:20]!r}")
        length = int(length_text)
        body = self._read_exactly(length)
        return RtspResponse(response.status, response.reason, response.headers, body)

    def _reconnect(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._buffer = b""
        self._sock = socket.create_connection(self._address, timeout=self._remaining())

    def _remaining(self) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left

    def _fill(self) -> None:
        assert self._sock is not None
        self._sock.settimeout(self._remaining())
        chunk = self._sock.recv(4096)
        if not chunk:
            raise _PeerClosed
        self._buffer += chunk

    def _read_until(self, marker: bytes) -> bytes:
        while (end := self._buffer.find(marker)) < 0:
            if len(self._buffer) > _MAX_HEADER_BYTES:
                raise RtspProtocolError("response header too long")
            self._fill()
        head, self._buffer = self._buffer[:end], self._buffer[end + len(marker) :]
        return head

    def _read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        body, self._buffer = self._buffer[:size], self._buffer[size:]
        return body
