"""TLS for the gateway's own connections: one place builds every client context.

The broker links (terminals' broker, upstream broker) and the webhook client receive a
ready :class:`ssl.SSLContext`; none of them builds or tweaks one. Contexts verify the
server's certificate chain against the configured CA (the site CA, or the system's trust
store) and the host name, and refuse anything below TLS 1.2. A certificate that fails
(wrong CA, expired, wrong name) is counted in ``gateway_tls_failures_total{link}`` and
explained by :func:`certificate_problem`; the caller keeps retrying as for any outage.
"""

from __future__ import annotations

import ssl

from gateway import metrics
from gateway.config import TlsClientConfig
from gateway.errors import ConfigError

_VERSIONS = {"1.2": ssl.TLSVersion.TLSv1_2, "1.3": ssl.TLSVersion.TLSv1_3}


class _ClosingSocket(ssl.SSLSocket):
    """Closes itself when its handshake fails. paho-mqtt drops such a socket without
    closing it, so every refused certificate would leak a descriptor until collected."""

    def do_handshake(self, block: bool = False) -> None:
        try:
            super().do_handshake(block)
        except BaseException:
            self.close()
            raise


def client_context(cfg: TlsClientConfig, key: str) -> ssl.SSLContext:
    """A verifying client context; ``key`` names the config table in errors (``mqtt.tls``)."""
    try:
        context = ssl.create_default_context(
            cafile=str(cfg.ca_file) if cfg.ca_file is not None else None
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"{key}.ca_file: cannot load {cfg.ca_file}: {exc}") from None
    context.minimum_version = _VERSIONS[cfg.min_version]
    context.sslsocket_class = _ClosingSocket
    return context


def optional_context(cfg: TlsClientConfig | None, key: str) -> ssl.SSLContext | None:
    """``None`` for a plain link (no ``[….tls]`` table)."""
    return None if cfg is None else client_context(cfg, key)


def certificate_problem(exc: BaseException) -> str | None:
    """Why the server's certificate was refused, if that is what ``exc`` comes from.

    Walks the cause/context chain: aiomqtt raises ``MqttError(...) from None`` and httpx
    wraps the ssl error, but both keep the original as ``__context__``.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return f"server certificate refused: {current.verify_message or current.reason}"
        current = current.__cause__ or current.__context__
    return None


def count_failure(link: str, exc: BaseException) -> str | None:
    """Count ``exc`` against ``link`` when it is a certificate failure; return the reason."""
    problem = certificate_problem(exc)
    if problem is not None:
        metrics.TLS_FAILURES.labels(link).inc()
    return problem
