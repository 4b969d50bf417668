"""``python -m gateway``: run the gateway, check a config, register terminals.

The day-to-day site commands (reload, backup, restore, accounts) live in
:mod:`gateway.operate.commands`; how each command ends is :mod:`gateway.exitcodes`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path
from typing import Annotated

import typer

from gateway.app import Gateway
from gateway.broker import write_broker_files
from gateway.config import GatewayConfig, load_config
from gateway.dispatch.cli import app as elders_app
from gateway.errors import GatewayError
from gateway.exitcodes import ExitCode, exit_code_for, significant
from gateway.operate import commands
from gateway.operate.signals import write_pid
from gateway.provision import demo_district, provision_site, read_credentials
from gateway.registry import Registry, load_registry

app = typer.Typer(
    name="gateway", help="Elder-care IoT gateway.", no_args_is_help=True, add_completion=False
)
app.add_typer(elders_app, name="elders")
log = logging.getLogger("gateway")

ConfigPath = Annotated[Path, typer.Option("--config", "-c", help="TOML config file.")]


def _fail(exc: GatewayError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(exit_code_for(exc))


def _load(config: Path) -> tuple[GatewayConfig, Registry]:
    cfg = load_config(config)
    return cfg, load_registry(cfg.registry.path)


@app.command()
def run(
    config: ConfigPath,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING …")] = "INFO",
) -> None:
    """Run the gateway until SIGINT/SIGTERM."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # One line per webhook request is noise; deliveries are counted in /metrics.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        cfg, registry = _load(config)
    except GatewayError as exc:
        raise _fail(exc) from exc
    gateway = Gateway(cfg, registry)
    log.info("%d terminals registered; store %s", len(registry), cfg.store.path)
    pid_file = cfg.reload.pid_file
    if pid_file is not None:
        write_pid(pid_file)
    try:
        asyncio.run(_run_until_signal(gateway))
    except Exception as exc:  # noqa: BLE001 - the process's last word: say why, exit with its code
        raise _ended_by(exc) from None
    finally:
        gateway.notifier.notify("STOPPING=1")
        if pid_file is not None:
            pid_file.unlink(missing_ok=True)


def _ended_by(exc: BaseException) -> typer.Exit:
    """Log, once, the error that ends the process; the exit status says what kind it was."""
    code, cause = exit_code_for(exc), significant(exc)
    if code is ExitCode.FAILED:
        log.critical("stopped by an unexpected error (exit %d)", code, exc_info=cause)
    else:
        log.critical("%s — stopping (exit %d, %s)", cause, code, code.name.lower())
    return typer.Exit(code)


async def _run_until_signal(gateway: Gateway) -> None:
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel if task else (lambda: None))
    loop.add_signal_handler(signal.SIGHUP, gateway.reloader.request)
    try:
        await gateway.run()
    except asyncio.CancelledError:
        log.info("stopped")


@app.command("check-config")
def check_config(config: Annotated[Path, typer.Argument(help="TOML config file.")]) -> None:
    """Validate a config (and its registry) without starting anything."""
    try:
        cfg, registry = _load(config)
        from gateway.http.auth import TokenAuth

        TokenAuth(cfg.api.tokens)
    except GatewayError as exc:
        raise _fail(exc) from exc
    typer.echo(
        f"ok: {len(registry)} terminals, broker {cfg.mqtt.host}:{cfg.mqtt.port},"
        f" store {cfg.store.path}, http {cfg.http.host}:{cfg.http.port},"
        f" sinks: {'webhook ' if cfg.webhook.enabled else ''}"
        f"{'upstream' if cfg.upstream.enabled else ''}"
    )


@app.command()
def provision(
    out: Annotated[Path, typer.Option(help="Directory for the site's files.")],
    terminals: Annotated[int, typer.Option(min=1, max=1_000_000)] = 2000,
    towns: Annotated[int, typer.Option(min=1, max=100)] = 17,
    villages_per_town: Annotated[int, typer.Option(min=1, max=100)] = 11,
    broker_port: Annotated[int, typer.Option(min=1, max=65535)] = 1883,
    gateway_user: str = "gateway",
) -> None:
    """Create a demo district: registry, credentials sheet, broker files, gateway.env."""
    district = demo_district(terminals, towns, villages_per_town)
    try:
        site = provision_site(out, district, broker_port=broker_port, gateway_user=gateway_user)
    except GatewayError as exc:
        raise _fail(exc) from exc
    fd = os.open(out / "gateway.env", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"GATEWAY__MQTT__USERNAME={gateway_user}\n")
        handle.write(f"GATEWAY__MQTT__PASSWORD={site.gateway_password}\n")
    files = site.broker
    typer.echo(f"{terminals} terminals registered in {out}; broker config {files.conf}")


@app.command("broker-files")
def broker_files(
    credentials: Annotated[Path, typer.Option(help="terminal_id,password CSV.")],
    out: Annotated[Path, typer.Option(help="Directory for mosquitto.conf, passwd, acl.")],
    gateway_user: str = "gateway",
    gateway_password_env: Annotated[
        str, typer.Option(help="Variable holding the gateway's broker password.")
    ] = "GATEWAY__MQTT__PASSWORD",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 1883,
    host: str = "127.0.0.1",
) -> None:
    """Regenerate the broker's accounts and ACL after terminals were added or removed."""
    password = os.environ.get(gateway_password_env, "")
    if not password:
        typer.echo(f"error: ${gateway_password_env} is empty", err=True)
        raise typer.Exit(2)
    try:
        accounts = [*read_credentials(credentials), (gateway_user, password)]
        files = write_broker_files(out, accounts, gateway_user, host=host, port=port)
    except GatewayError as exc:
        raise _fail(exc) from exc
    typer.echo(f"wrote {files.conf}; send SIGHUP to a running mosquitto to reload accounts")


commands.register(app)


def main() -> None:
    app(prog_name="python -m gateway")


if __name__ == "__main__":
    main()
