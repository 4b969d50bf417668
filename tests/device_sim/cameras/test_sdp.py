from __future__ import annotations

from device_sim.cameras.h264 import AccessUnit, Clip
from device_sim.cameras.sdp import build_sdp

CLIP = Clip(
    fps=10,
    sps=bytes.fromhex("6742c01e") + b"\x22" * 6,
    pps=bytes.fromhex("68ce3c80"),
    frames=(AccessUnit((b"\x65\x88",)),),
)


def test_sdp_describes_one_h264_track() -> None:
    sdp = build_sdp(CLIP, session_id=42, host="127.0.0.1", name="cam-001")
    lines = sdp.split("\r\n")
    assert sdp.endswith("\r\n")
    assert lines[0] == "v=0"
    assert "o=- 42 1 IN IP4 127.0.0.1" in lines
    assert "s=cam-001" in lines
    assert "m=video 0 RTP/AVP 96" in lines
    assert "a=rtpmap:96 H264/90000" in lines
    assert (
        "a=fmtp:96 packetization-mode=1;profile-level-id=42C01E;"
        "sprop-parameter-sets=Z0LAHiIiIiIiIg==,aM48gA=="
    ) in lines
    assert "a=control:trackID=0" in lines
    assert lines.index("m=video 0 RTP/AVP 96") < lines.index("a=control:trackID=0")


def test_sdp_for_ipv6_host() -> None:
    sdp = build_sdp(CLIP, session_id=1, host="::1", name="x")
    assert "o=- 1 1 IN IP6 ::1" in sdp
    assert "c=IN IP6 ::" in sdp
