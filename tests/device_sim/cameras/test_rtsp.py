from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from device_sim.cameras.rtsp import (
    MAX_BODY_BYTES,
    Request,
    RequestError,
    Response,
    TransportSpec,
    error_response,
    parse_head,
    parse_transport,
)

DESCRIBE = (
    b"DESCRIBE rtsp://127.0.0.1:8554/stream RTSP/1.0\r\n"
    b"CSeq: 2\r\n"
    b"User-Agent: Lavf59.27.100\r\n"
    b"Accept: application/sdp\r\n\r\n"
)


def test_parses_request_line_and_headers() -> None:
    request = parse_head(DESCRIBE)
    assert (request.method, request.uri, request.version) == (
        "DESCRIBE",
        "rtsp://127.0.0.1:8554/stream",
        "RTSP/1.0",
    )
    assert request.cseq == "2"
    assert request.header("accept") == "application/sdp"
    assert request.header("Missing") is None
    assert request.content_length() == 0


def test_folded_header_lines_are_joined() -> None:
    request = parse_head(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX-Long: a\r\n  b\r\n\r\n")
    assert request.header("X-Long") == "a b"


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (b"\r\n\r\n", 400),
        (b"DESCRIBE rtsp://x/stream\r\nCSeq: 3\r\n\r\n", 400),
        (b"DESCRIBE rtsp://x/stream HTTP/1.1\r\nCSeq: 3\r\n\r\n", 505),
        (b"DESC RIBE rtsp://x RTSP/1.0\r\n\r\n", 400),
        (b"OPTIONS * RTSP/1.0\r\nno colon here\r\n\r\n", 400),
        (b"OPTIONS * RTSP/1.0\r\nCSeq: 1\xff\r\n\r\n", 400),
        (b"OPTIONS * RTSP/1.0\r\nX-A: b\x01c\r\n\r\n", 400),
    ],
)
def test_malformed_heads_are_request_errors(head: bytes, status: int) -> None:
    with pytest.raises(RequestError) as caught:
        parse_head(head)
    assert caught.value.status == status


def test_error_keeps_a_numeric_cseq_for_the_reply() -> None:
    with pytest.raises(RequestError) as caught:
        parse_head(b"DESCRIBE rtsp://x/stream RTSP/2.0\r\nCSeq: 7\r\n\r\n")
    assert error_response(caught.value).encode().startswith(b"RTSP/1.0 505 ")
    assert b"CSeq: 7\r\n" in error_response(caught.value).encode()


def test_non_numeric_cseq_is_never_echoed() -> None:
    request = parse_head(b"OPTIONS * RTSP/1.0\r\nCSeq: 1 X\r\n\r\n")
    assert request.cseq is None


@pytest.mark.parametrize(
    ("value", "status"), [("abc", 400), ("-1", 400), (str(MAX_BODY_BYTES + 1), 413)]
)
def test_bad_content_length(value: str, status: int) -> None:
    request = parse_head(f"SET_PARAMETER * RTSP/1.0\r\nContent-Length: {value}\r\n\r\n".encode())
    with pytest.raises(RequestError) as caught:
        request.content_length()
    assert caught.value.status == status


def test_response_encoding_echoes_cseq_and_sets_length() -> None:
    wire = Response(200, "5", [("Session", "abc;timeout=60")], b"v=0\r\n", "application/sdp")
    head, _, body = wire.encode().partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "RTSP/1.0 200 OK"
    assert "CSeq: 5" in lines
    assert "Session: abc;timeout=60" in lines
    assert "Content-Type: application/sdp" in lines
    assert "Content-Length: 5" in lines
    assert body == b"v=0\r\n"


def test_response_without_body_has_no_content_length() -> None:
    assert b"Content-Length" not in Response(401, "1").encode()


def test_shared_parser_reads_http_heads() -> None:
    request = parse_head(b"GET /cameras HTTP/1.1\r\nHost: x\r\n\r\n", ("HTTP/1.1",))
    assert isinstance(request, Request)
    assert request.uri == "/cameras"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("RTP/AVP/TCP;unicast;interleaved=0-1", TransportSpec(tcp=True, interleaved=(0, 1))),
        ("RTP/AVP/TCP;unicast;interleaved=4-5", TransportSpec(tcp=True, interleaved=(4, 5))),
        ("RTP/AVP/TCP;unicast", TransportSpec(tcp=True)),
        (
            "RTP/AVP;unicast;client_port=5000-5001",
            TransportSpec(tcp=False, client_port=(5000, 5001)),
        ),
        (
            "RTP/AVP;multicast,RTP/AVP/UDP;unicast;client_port=6000",
            TransportSpec(tcp=False, client_port=(6000, 6001)),
        ),
    ],
)
def test_parse_transport(header: str, expected: TransportSpec) -> None:
    assert parse_transport(header) == expected


@pytest.mark.parametrize(
    "header",
    [None, "", "RTP/AVP;multicast", "RTP/SAVP;unicast", "RTP/AVP;unicast", "RTP/AVP;client_port=x"],
)
def test_unsupported_transport_is_461(header: str | None) -> None:
    with pytest.raises(RequestError) as caught:
        parse_transport(header)
    assert caught.value.status == 461


def _answer(data: bytes) -> bytes:
    """What a connection would send back for one head: parse or reply with the error."""
    try:
        request = parse_head(data)
        request.content_length()
        parse_transport(request.header("Transport"))
    except RequestError as exc:
        return error_response(exc).encode()
    return Response(200, request.cseq).encode()


@given(st.binary(max_size=600))
def test_garbage_bytes_never_crash_the_parser(data: bytes) -> None:
    reply = _answer(data)
    assert reply.startswith((b"RTSP/1.0 200 ", b"RTSP/1.0 4", b"RTSP/1.0 505 "))


_pieces = st.sampled_from(
    [
        "DESCRIBE",
        "OPTIONS",
        " ",
        "rtsp://h:1/stream",
        "RTSP/1.0",
        "\r\n",
        "\n",
        ":",
        "CSeq",
        "Content-Length",
        "Transport",
        "RTP/AVP/TCP;interleaved=",
        "9999999999-",
        "-",
        ";",
        ",",
        "\t",
        "é",
        "\x00",
        "1",
    ]
)


@given(st.lists(_pieces, max_size=40).map("".join))
def test_rtsp_shaped_garbage_is_answered(text: str) -> None:
    reply = _answer(text.encode("utf-8"))
    assert reply.split(b" ", 2)[1] in {b"200", b"400", b"413", b"461", b"505"}
