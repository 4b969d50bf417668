"""A live gateway HTTP server with the console on a loopback port, and headless Chromium."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Coroutine, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from playwright.async_api import Browser, Page, ViewportSize, async_playwright
from starlette.applications import Starlette

from gateway.http.server import bind
from tests.unit.console.factory import Site, site

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--no-first-run", "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]  # fmt: skip
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


class _Server(uvicorn.Server):
    """No signal handlers (the test owns shutdown), and an event once it listens."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.listening = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.listening.set()


@contextlib.asynccontextmanager
async def serving(app: Starlette) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) until the block ends; yields the base URL."""
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, log_level="warning", lifespan="off", access_log=False, timeout_graceful_shutdown=1
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="uvicorn")
    try:
        async with asyncio.timeout(10):
            await server.listening.wait()
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def running(work: Coroutine[Any, Any, None], name: str) -> AsyncIterator[None]:
    """Run a component's ``run()`` for the duration of the block, then cancel it."""
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass
class Live:
    site: Site
    url: str


@contextlib.asynccontextmanager
async def live_site(tmp_path: Path, **options: Any) -> AsyncIterator[Live]:
    """:func:`tests.unit.console.factory.site`, served, with its Escalator running."""
    async with (
        site(tmp_path, **options) as s,
        serving(s.app) as url,
        running(s.console.escalator().run(), "escalator"),
    ):
        yield Live(s, url)


#: What a wall display's Chromium is launched with so that alarms sound without a click.
KIOSK_ARGS = ["--autoplay-policy=no-user-gesture-required"]


@contextlib.asynccontextmanager
async def chromium(extra_args: Sequence[str] = ()) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser, viewport: ViewportSize = VIEWPORT) -> Page:
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    page.set_default_timeout(10_000)
    return page


async def sign_in(page: Page, url: str, username: str, password: str) -> None:
    await page.goto(f"{url}/console/login")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
