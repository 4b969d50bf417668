"""Session descriptions (RFC 4566) for one H.264 video track (RFC 6184)."""

from __future__ import annotations

from device_sim.cameras.h264 import Clip
from device_sim.cameras.rtp import CLOCK_RATE, PAYLOAD_TYPE

TRACK = "trackID=0"


def build_sdp(clip: Clip, *, session_id: int, host: str, name: str) -> str:
    """SDP for a live stream of ``clip``; the track's control URL is ``trackID=0``."""
    family = "IP6" if ":" in host else "IP4"
    fmtp = (
        f"packetization-mode=1;profile-level-id={clip.profile_level_id};"
        f"sprop-parameter-sets={clip.sprop_parameter_sets}"
    )
    lines = [
        "v=0",
        f"o=- {session_id} 1 IN {family} {host}",
        f"s={name}",
        f"c=IN {family} {'::' if family == 'IP6' else '0.0.0.0'}",
        "t=0 0",
        "a=control:*",
        "a=range:npt=0-",
        f"m=video 0 RTP/AVP {PAYLOAD_TYPE}",
        f"a=rtpmap:{PAYLOAD_TYPE} H264/{CLOCK_RATE}",
        f"a=fmtp:{PAYLOAD_TYPE} {fmtp}",
        f"a=framerate:{clip.fps}",
        f"a=control:{TRACK}",
    ]
    return "\r\n".join(lines) + "\r\n"
