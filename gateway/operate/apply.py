"""``python -m gateway reload``: put the registry file in force across the site.

1. Load and check the registry (an error names the line; then nothing changes).
2. Rewrite the terminal brokers' accounts (every town broker of a district): one per
   registered terminal that has a password in the credentials sheet (the gateway's own
   accounts are on a listener of their own and stay); a terminal no longer registered
   loses its account. Tell each broker to re-read them — Mosquitto 2.0 then drops a
   connected client whose account is gone or whose password changed, and refuses it
   from then on.
3. Tell the running gateway to reload the registry (SIGHUP via its PID file); it
   refuses a removed terminal's messages as ``unknown_terminal`` from then on.
"""

from __future__ import annotations

from gateway.config import GatewayConfig
from gateway.operate.signals import send_reload
from gateway.provision import read_credentials, rewrite_terminal_accounts
from gateway.registry import Registry, load_registry


def apply_registry(cfg: GatewayConfig) -> list[str]:
    """Do the three steps; return one line per thing done, for the operator."""
    registry = load_registry(cfg.registry.path, cfg.site.district)
    done = [f"registry {cfg.registry.path}: {len(registry)} terminals, checked"]
    if cfg.reload.credentials is not None:
        done += _rewrite_accounts(cfg, registry)
    if cfg.reload.pid_file is not None:
        done.append("gateway: " + send_reload(f"pidfile:{cfg.reload.pid_file}"))
    else:
        done.append(
            "gateway: reload.pid_file is not set; send it SIGHUP or"
            " POST /api/v1/registry/reload yourself"
        )
    return done


def _rewrite_accounts(cfg: GatewayConfig, registry: Registry) -> list[str]:
    reload = cfg.reload
    credentials, broker_dir = reload.credentials, reload.broker_dir
    if credentials is None or broker_dir is None:  # the config validator pairs them
        return []
    sheet = {c.terminal_id for c in read_credentials(credentials)}
    per_broker = rewrite_terminal_accounts(broker_dir, credentials, set(registry))
    kept = sum(per_broker.values())
    without = [t for t in registry if t not in sheet]
    done = [
        f"terminal accounts under {broker_dir}: {kept} terminals on {len(per_broker)} brokers"
        f" ({len(sheet) - kept} on the sheet but not registered left out)"
    ]
    if without:
        done.append(
            f"warning: {len(without)} registered terminals have no password in"
            f" {credentials} and cannot connect: {', '.join(without[:10])}"
        )
    done += [f"broker: {send_reload(target)}" for target in reload.brokers]
    return done
