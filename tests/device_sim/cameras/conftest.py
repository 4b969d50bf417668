from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from device_sim.cameras import CameraFarm, CameraInfo, FarmConfig, Fault, Scenario


@pytest.fixture(scope="session")
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the whole run, so each clip is encoded once."""
    return tmp_path_factory.mktemp("clips")


def small_config(cache: Path, faults: dict[str, Fault] | None = None, **extra: Any) -> FarmConfig:
    """A few small cameras on free ports."""
    settings: dict[str, Any] = {
        "count": 3,
        "base_port": 0,
        "control_port": 0,
        "width": 320,
        "height": 180,
        "fps": 10,
        "seconds": 1,
        "variants": 2,
        "cache_dir": cache,
        "stall_after_s": 0.3,
        "scenario": Scenario(faults=faults or {}),
    }
    settings.update(extra)
    return FarmConfig(**settings)


@asynccontextmanager
async def running(config: FarmConfig, farm: CameraFarm | None = None) -> AsyncIterator[CameraFarm]:
    """Run a farm for the duration of the block, and always stop it."""
    farm = farm or CameraFarm(config)
    task = asyncio.create_task(farm.run(), name="farm-under-test")
    try:
        async with asyncio.timeout(60):
            await farm.wait_ready()
        yield farm
    finally:
        farm.stop()
        async with asyncio.timeout(10):
            await asyncio.gather(task, return_exceptions=True)


def login_url(info: CameraInfo, password: str | None = None) -> str:
    """The camera's URL with credentials in it."""
    secret = info.password if password is None else password
    return info.url.replace("rtsp://", f"rtsp://{info.username}:{secret}@")


async def run_tool(*argv: str, limit: float = 30) -> tuple[int, str]:
    """Exit status and combined output of a command, killed after ``limit`` seconds."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        async with asyncio.timeout(limit):
            out, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")
