"""The raw RTSP check: request building, parsing, Digest/Basic, and outcomes on a socket."""

from __future__ import annotations

import base64
import hashlib
import re
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator

import pytest

from gateway.cameras import rtsp
from gateway.cameras.probe import ProbeOutcome

# Pure parts.


def test_build_request() -> None:
    request = rtsp.build_request("DESCRIBE", "rtsp://h/s", 2, {"Accept": "application/sdp"})
    assert request == (
        b"DESCRIBE rtsp://h/s RTSP/1.0\r\nCSeq: 2\r\nUser-Agent: eldercare-gateway\r\n"
        b"Accept: application/sdp\r\n\r\n"
    )


def test_parse_head_keeps_repeated_headers() -> None:
    head = (
        b"RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n"
        b'WWW-Authenticate: Digest realm="r", nonce="n"\r\nWWW-Authenticate: Basic realm="r"'
    )
    response = rtsp.parse_head(head)
    assert (response.status, response.reason) == (401, "Unauthorized")
    assert response.header("cseq") == "2"
    assert len(response.all("WWW-Authenticate")) == 2


@pytest.mark.parametrize("head", [b"HTTP/1.1 200 OK", b"RTSP/1.0 abc", b"\xff\xfe", b""])
def test_parse_head_rejects_non_rtsp(head: bytes) -> None:
    with pytest.raises(rtsp.RtspProtocolError):
        rtsp.parse_head(head)


def test_parse_challenge_with_quoted_commas_and_escapes() -> None:
    scheme, params = rtsp.parse_challenge(
        'Digest realm="cam, lobby", nonce="a\\"b", qop="auth,auth-int", stale=FALSE'
    )
    assert scheme == "digest"
    assert params == {
        "realm": "cam, lobby",
        "nonce": 'a"b',
        "qop": "auth,auth-int",
        "stale": "FALSE",
    }


def test_digest_rfc2617_example() -> None:
    params = {
        "realm": "testrealm@host.com",
        "nonce": "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "qop": "auth,auth-int",
    }
    response = rtsp.digest_response(
        params, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", "0a4f113b"
    )
    assert response == "6629fae49393a05397450978507c4ef1"


@pytest.mark.parametrize(
    ("algorithm", "expected"),
    [
        ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
        ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
    ],
)
def test_digest_rfc7616_examples(algorithm: str, expected: str) -> None:
    params = {
        "realm": "http-auth@example.org",
        "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        "qop": "auth, auth-int",
        "algorithm": algorithm,
    }
    cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
    response = rtsp.digest_response(
        params, "GET", "/dir/index.html", "Mufasa", "Circle of Life", cnonce
    )
    assert response == expected


def test_digest_without_qop() -> None:
    params = {"realm": "r", "nonce": "n"}
    ha1 = hashlib.md5(b"u:r:p").hexdigest()
    ha2 = hashlib.md5(b"DESCRIBE:rtsp://h/s").hexdigest()
    expected = hashlib.md5(f"{ha1}:n:{ha2}".encode()).hexdigest()
    assert rtsp.digest_response(params, "DESCRIBE", "rtsp://h/s", "u", "p", "c") == expected


def test_authorization_prefers_digest() -> None:
    header = rtsp.authorization(
        ['Basic realm="r"', 'Digest realm="r", nonce="n", opaque="o"'],
        "DESCRIBE",
        "rtsp://h/s",
        "u",
        "p",
    )
    assert header is not None
    assert header.startswith('Digest username="u", realm="r", nonce="n", uri="rtsp://h/s"')
    assert header.endswith('opaque="o"')


def test_authorization_basic_and_unknown() -> None:
    basic = rtsp.authorization(['Basic realm="r"'], "DESCRIBE", "rtsp://h/s", "u", "p")
    assert basic == "Basic " + base64.b64encode(b"u:p").decode()
    assert rtsp.authorization(["Bearer x"], "DESCRIBE", "rtsp://h/s", "u", "p") is None


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, ProbeOutcome.REACHABLE),
        (401, ProbeOutcome.AUTH_FAILED),
        (403, ProbeOutcome.AUTH_FAILED),
        (404, ProbeOutcome.NOT_FOUND),
        (503, ProbeOutcome.ERROR),
    ],
)
def test_classify(status: int, outcome: ProbeOutcome) -> None:
    assert rtsp.classify(status) is outcome


# check() against a small in-process server.

Handler = Callable[[str, dict[str, str]], bytes | None]
USER, PASSWORD, REALM, NONCE = "admin", "pa:ss@word", "IP Camera", "0123abcd"


def reply(status: str, cseq: str, extra: str = "", body: str = "") -> bytes:
    length = f"Content-Length: {len(body)}\r\n" if body else ""
    return f"RTSP/1.0 {status}\r\nCSeq: {cseq}\r\n{extra}{length}\r\n{body}".encode()


def digest_ok(headers: dict[str, str], method: str) -> bool:
    """An independent check of the client's Digest answer (no qop)."""
    auth = headers.get("authorization", "")
    fields = dict(re.findall(r'(\w+)="([^"]*)"', auth))
    ha1 = hashlib.md5(f"{USER}:{REALM}:{PASSWORD}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{fields.get('uri')}".encode()).hexdigest()
    expected = hashlib.md5(f"{ha1}:{NONCE}:{ha2}".encode()).hexdigest()
    return auth.startswith("Digest ") and fields.get("response") == expected


def camera(path: str = "/live", auth: bool = False) -> Handler:
    def handle(request_line: str, headers: dict[str, str]) -> bytes:
        method, url, _ = request_line.split(" ")
        cseq = headers.get("cseq", "0")
        if method == "OPTIONS":
            return reply("200 OK", cseq, "Public: OPTIONS, DESCRIBE, SETUP, PLAY\r\n")
        if auth and not digest_ok(headers, method):
            challenge = f'WWW-Authenticate: Digest realm="{REALM}", nonce="{NONCE}"\r\n'
            return reply("401 Unauthorized", cseq, challenge)
        if not url.endswith(path):
            return reply("404 Not Found", cseq)
        return reply("200 OK", cseq, "Content-Type: application/sdp\r\n", "v=0\r\n")

    return handle


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    handler: Handler


class _Connection(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        while True:
            request_line = self.rfile.readline().decode().strip()
            if not request_line:
                return
            headers: dict[str, str] = {}
            while (line := self.rfile.readline().decode().strip()) != "":
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            answer = self.server.handler(request_line, headers)
            if answer is None:
                return
            self.wfile.write(answer)


@pytest.fixture
def serve() -> Iterator[Callable[[Handler], str]]:
    servers: list[_Server] = []

    def start(handler: Handler) -> str:
        server = _Server(("127.0.0.1", 0), _Connection)
        server.handler = handler
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        return f"rtsp://127.0.0.1:{server.server_address[1]}"

    try:
        yield start
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_reachable(serve: Callable[[Handler], str]) -> None:
    result = rtsp.check(serve(camera()) + "/live", None, None, timeout=2)
    assert (result.outcome, result.status, result.detail) == (ProbeOutcome.REACHABLE, 200, "")


def test_not_found(serve: Callable[[Handler], str]) -> None:
    result = rtsp.check(serve(camera()) + "/nope", None, None, timeout=2)
    assert (result.outcome, result.status) == (ProbeOutcome.NOT_FOUND, 404)
    assert result.detail == "RTSP 404 Not Found"


def test_digest_login(serve: Callable[[Handler], str]) -> None:
    result = rtsp.check(serve(camera(auth=True)) + "/live", USER, PASSWORD, timeout=2)
    assert result.outcome is ProbeOutcome.REACHABLE


def test_wrong_password(serve: Callable[[Handler], str]) -> None:
    result = rtsp.check(serve(camera(auth=True)) + "/live", USER, "guess", timeout=2)
    assert (result.outcome, result.status) == (ProbeOutcome.AUTH_FAILED, 401)


def test_credentials_missing(serve: Callable[[Handler], str]) -> None:
    result = rtsp.check(serve(camera(auth=True)) + "/live", None, None, timeout=2)
    assert result.outcome is ProbeOutcome.AUTH_FAILED


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = rtsp.check(f"rtsp://127.0.0.1:{port}/live", None, None, timeout=2)
    assert result.outcome is ProbeOutcome.REFUSED


def test_silent_server_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = rtsp.check(f"rtsp://127.0.0.1:{port}/live", None, None, timeout=0.3)
    assert result.outcome is ProbeOutcome.TIMEOUT


def test_not_an_rtsp_server(serve: Callable[[Handler], str]) -> None:
    url = serve(lambda line, headers: b"HTTP/1.1 400 Bad Request\r\n\r\n") + "/live"
    result = rtsp.check(url, None, None, timeout=2)
    assert result.outcome is ProbeOutcome.ERROR
    assert "not an RTSP status line" in result.detail


def test_server_hanging_up_every_time(serve: Callable[[Handler], str]) -> None:
    result = rtsp.check(serve(lambda line, headers: None) + "/live", None, None, timeout=2)
    assert result.outcome is ProbeOutcome.ERROR
    assert result.detail == "connection closed by the camera"


def test_server_closing_after_each_answer_is_reconnected(serve: Callable[[Handler], str]) -> None:
    answered: list[str] = []

    def once_per_connection(line: str, headers: dict[str, str]) -> bytes | None:
        if answered and answered[-1] == "answered":
            answered.append("closed")
            return None
        answered.append("answered")
        return camera()(line, headers)

    result = rtsp.check(serve(once_per_connection) + "/live", None, None, timeout=2)
    assert result.outcome is ProbeOutcome.REACHABLE


def test_unknown_host(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_such_host(address: tuple[str, int], timeout: float) -> socket.socket:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_such_host)
    result = rtsp.check("rtsp://no-such-camera.invalid/live", None, None, timeout=2)
    assert result.outcome is ProbeOutcome.UNREACHABLE
    assert result.detail.startswith("host unknown")


def test_huge_content_length_is_refused(serve: Callable[[Handler], str]) -> None:
    url = serve(lambda line, headers: reply("200 OK", "1", "Content-Length: 99999999999\r\n"))
    result = rtsp.check(url + "/live", None, None, timeout=2)
    assert result.outcome is ProbeOutcome.ERROR
