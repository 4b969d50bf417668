"""The TLS context terminals use: TLS 1.2 or newer, broker certificate checked against a CA."""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(ca_file: Path) -> ssl.SSLContext:
    """Verify the broker against ``ca_file`` (and its name against the URL's host)."""
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"--ca-file: cannot load {ca_file}: {exc}") from exc
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
