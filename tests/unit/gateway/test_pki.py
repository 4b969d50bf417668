"""The site CA and server certificates, checked by a real TLS handshake (in memory)."""

from __future__ import annotations

import datetime as dt
import ssl
import stat
from pathlib import Path

import pytest

from gateway.pki import Issued, create_ca, issue_server, load_issued

NOW = dt.datetime.now(dt.UTC)


def handshake(tmp_path: Path, server: Issued, ca: Issued, name: str) -> None:
    """Run a TLS handshake between a server with ``server`` and a client trusting ``ca``."""
    server.write(tmp_path / "s.crt", tmp_path / "s.key")
    ca.write(tmp_path / "ca.crt", tmp_path / "ca.key")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(tmp_path / "s.crt", tmp_path / "s.key")
    client_ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.crt"))
    client_ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=name)
    srv = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        done = 0
        for end, out, peer_in in ((client, c_out, s_in), (srv, s_out, c_in)):
            try:
                end.do_handshake()
                done += 1
            except ssl.SSLWantReadError:
                pass
            peer_in.write(out.read())
        if done == 2:
            return
    raise AssertionError("handshake did not finish")


def test_a_server_certificate_verifies_against_its_ca_by_name_and_ip(tmp_path: Path) -> None:
    ca = create_ca("test CA", NOW)
    server = issue_server(ca, ["broker.example", "127.0.0.1"], NOW)

    handshake(tmp_path, server, ca, "broker.example")
    handshake(tmp_path, server, ca, "127.0.0.1")


def test_another_ca_an_expired_certificate_and_a_wrong_name_are_refused(
    tmp_path: Path,
) -> None:
    ca, other = create_ca("site CA", NOW), create_ca("some other CA", NOW)
    cases = {
        "unable to get local issuer": (issue_server(other, ["b.example"], NOW), "b.example"),
        "expired": (issue_server(ca, ["b.example"], NOW, days=-1), "b.example"),
        "mismatch": (issue_server(ca, ["b.example"], NOW), "c.example"),
    }
    for message, (server, name) in cases.items():
        with pytest.raises(ssl.SSLCertVerificationError, match=message):
            handshake(tmp_path, server, ca, name)


def test_keys_are_owner_only_and_a_ca_reads_back(tmp_path: Path) -> None:
    ca = create_ca("site CA", NOW)
    ca.write(tmp_path / "ca.crt", tmp_path / "ca.key")

    assert stat.S_IMODE((tmp_path / "ca.key").stat().st_mode) == 0o600
    again = load_issued(tmp_path / "ca.crt", tmp_path / "ca.key")
    handshake(tmp_path, issue_server(again, ["b.example"], NOW), ca, "b.example")
