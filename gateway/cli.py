"""``python -m gateway``: run the gateway, check a config, register terminals.

The day-to-day site commands (reload, backup, restore, accounts) live in
:mod:`gateway.operate.commands`; how each command ends is :mod:`gateway.exitcodes`.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Annotated, cast

import typer

from gateway import gcpause
from gateway.app import Gateway, check_site
from gateway.config import GatewayConfig, load_config
from gateway.dispatch.cli import app as elders_app
from gateway.errors import GatewayError
from gateway.exitcodes import ExitCode, exit_code_for, significant
from gateway.operate import commands
from gateway.operate.signals import write_pid
from gateway.provision import (
    TopologyKind,
    assign_zones,
    demo_district,
    provision_site,
    rewrite_terminal_accounts,
    zones_of,
)
from gateway.registry import Registry, load_registry
from gateway.topology import PortPlan

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
    registry = load_registry(cfg.registry.path, cfg.site.district)
    check_site(cfg, registry)
    return cfg, registry


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
        gateway = Gateway(cfg, registry, after_registry_swap=gcpause.freeze)
    except GatewayError as exc:
        raise _fail(exc) from exc
    log.info("%d terminals registered; store %s", len(registry), cfg.store.path)
    gcpause.freeze()  # the registry and everything start-up built: see gcpause
    pid_file = cfg.reload.pid_file
    if pid_file is not None:
        write_pid(pid_file)
    gcpause.watch()
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
        Gateway(cfg, registry)  # builds the TLS contexts: a bad CA file is named here
    except GatewayError as exc:
        raise _fail(exc) from exc
    zones = {t.zone for t in registry.values()}
    shape = f" (district: {len(zones)} bridged zones)" if cfg.mqtt.bridged else ""
    typer.echo(
        f"ok: {len(registry)} terminals, broker {cfg.mqtt.host}:{cfg.mqtt.port}{shape},"
        f" store {cfg.store.path}, http {cfg.http.host}:{cfg.http.port},"
        f" sinks: {'webhook ' if cfg.webhook.enabled else ''}"
        f"{'upstream' if cfg.upstream.enabled else ''}"
    )


@app.command()
def provision(
    out: Annotated[Path, typer.Option(help="Directory for the site's files.")],
    registry: Annotated[
        Path | None, typer.Option(help="The site's terminals.csv (its elders and terminals).")
    ] = None,
    demo_terminals: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Instead: invent N terminals (demo).")
    ] = 0,
    district: Annotated[
        str | None, typer.Option(help="[site] district: checks/fills the registry's column.")
    ] = None,
    topology: Annotated[
        str, typer.Option(help="single | district (a broker per town/zone) | auto.")
    ] = "auto",
    host: Annotated[str, typer.Option(help="Name terminals and bridges use.")] = "127.0.0.1",
    extra_name: Annotated[
        list[str] | None, typer.Option(help="More names for the server certificates.")
    ] = None,
    tls_port: Annotated[int, typer.Option(min=1, max=65535, help="Terminals, TLS.")] = 8883,
    plain_port: Annotated[
        int, typer.Option(min=0, max=65535, help="Terminals, plain, loopback only; 0: none.")
    ] = 1883,
    gateway_port: Annotated[int, typer.Option(min=1, max=65535)] = 1882,
    bridge_port: Annotated[int, typer.Option(min=1, max=65535)] = 8882,
    gateway_tls: Annotated[bool, typer.Option(help="The gateway's listener speaks TLS.")] = False,
    credentials_plain: Annotated[
        bool, typer.Option(help="Point terminals at the loopback plain listener (simulation).")
    ] = False,
    towns: Annotated[int, typer.Option(min=1, max=100, help="Demo only.")] = 17,
    villages_per_town: Annotated[int, typer.Option(min=1, max=100, help="Demo only.")] = 11,
) -> None:
    """Provision a site from its registry: brokers, certificates, credentials, gateway config.

    Several towns' brokers on one host take consecutive ports from --tls-port and
    --plain-port (town i: port + i).
    """
    if (registry is None) == (demo_terminals == 0):
        typer.echo("error: give --registry FILE, or --demo-terminals N for a demo", err=True)
        raise typer.Exit(2)
    if topology not in ("auto", "single", "district"):
        typer.echo(f"error: --topology {topology!r}: single, district or auto", err=True)
        raise typer.Exit(2)
    try:
        if registry is not None:
            terminals = list(load_registry(registry, district).values())
        else:
            district = district or "示范区"
            terminals = demo_district(demo_terminals, towns, villages_per_town, district)
        terminals = assign_zones(terminals, cast(TopologyKind, topology))
        brokers = max(1, len(zones_of(terminals)))
        ports = PortPlan.consecutive(
            brokers, tls_port, plain_port or None, gateway=gateway_port, bridges=bridge_port
        )
        site = provision_site(
            out, terminals, ports, host=host, extra_names=extra_name or (),
            gateway_tls=gateway_tls, credentials_tls=not credentials_plain, district=district,
        )  # fmt: skip
    except GatewayError as exc:
        raise _fail(exc) from exc
    shape = (
        f"{brokers} town brokers bridged to a district broker"
        if site.topology.bridged
        else "one broker"
    )
    typer.echo(
        f"{len(terminals)} terminals in {out}: {shape}; start them with "
        f"`python -m device_sim brokers --site {out}`; gateway config {out / 'gateway.toml'}"
    )


@app.command("broker-files")
def broker_files(
    site: Annotated[Path, typer.Option(help="The provisioned site directory.")],
    credentials: Annotated[
        Path | None, typer.Option(help="terminal_id,password,broker CSV (default: the site's).")
    ] = None,
) -> None:
    """Regenerate the terminal brokers' accounts after terminals were added or removed."""
    try:
        counts = rewrite_terminal_accounts(site, credentials or site / "credentials.csv")
    except (GatewayError, OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    for name, count in counts.items():
        typer.echo(f"{name}: {count} terminal accounts")
    typer.echo("send SIGHUP to each running mosquitto to reload its accounts")


commands.register(app)


def main() -> None:
    app(prog_name="python -m gateway")


if __name__ == "__main__":
    main()
