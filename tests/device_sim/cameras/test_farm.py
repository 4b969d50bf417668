"""The farm over the wire, with a minimal RTSP client."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from pathlib import Path

import httpx
import pytest

from device_sim.cameras import CameraFarm, CameraInfo, FarmError, Fault, Scenario, ScheduledFault
from device_sim.cameras.auth import derive_password

from .conftest import running, small_config
from .rtsp_client import RtspClient

pytestmark = pytest.mark.integration


def _cam(farm: CameraFarm, camera_id: str) -> CameraInfo:
    return next(c for c in farm.cameras() if c.camera_id == camera_id)


async def _client(info: CameraInfo, password: str | None = None) -> RtspClient:
    secret = info.password if password is None else password
    return await RtspClient.connect(info.url, info.username, secret)


async def test_manifest_lists_every_camera(clip_cache: Path) -> None:
    async with running(small_config(clip_cache, count=4, per_facility=2)) as farm:
        rows = farm.manifest()["cameras"]
        assert farm.manifest()["control_url"].startswith("http://127.0.0.1:")
    assert [r["id"] for r in rows] == ["cam-001", "cam-002", "cam-003", "cam-004"]
    assert [r["facility"] for r in rows] == ["fac-001", "fac-001", "fac-002", "fac-002"]
    assert len({r["port"] for r in rows}) == 4
    assert all(r["url"] == f"rtsp://127.0.0.1:{r['port']}/stream" for r in rows)
    assert all(r["password"] == derive_password("eldercare", r["id"]) for r in rows)
    assert [r["scene"] for r in rows] == [0, 1, 0, 1]


async def test_digest_login_and_tcp_play_loop_seamlessly(clip_cache: Path) -> None:
    async with running(small_config(clip_cache)) as farm:
        client = await _client(_cam(farm, "cam-001"))
        try:
            options = await client.request("OPTIONS")
            assert "DESCRIBE" in (options.header("Public") or "")
            played = await client.play_tcp()
            frames = await _read_frames(client, 14)  # the clip loops after 10
        finally:
            await client.close()
    info = played.header("RTP-Info") or ""
    first = frames[0][0]
    assert f"seq={first.seq};rtptime={first.timestamp}" in info
    assert first.payload[0] & 0x1F == 7  # SPS leads the first IDR
    packets = [p for frame in frames for p in frame]
    assert [p.seq for p in packets] == [(first.seq + i) & 0xFFFF for i in range(len(packets))]
    stamps = [frame[0].timestamp for frame in frames]
    assert stamps == [(first.timestamp + 9000 * i) & 0xFFFFFFFF for i in range(14)]
    assert frames[10][0].payload[0] & 0x1F == 7  # the loop restarts at an IDR


async def _read_frames(client: RtspClient, count: int) -> list[list]:  # type: ignore[type-arg]
    frames: list[list] = [[]]  # type: ignore[type-arg]
    async with asyncio.timeout(10):
        while len(frames) <= count:
            packet = await client.next_video()
            frames[-1].append(packet)
            if packet.marker:
                frames.append([])
    return frames[:count]


async def test_missing_or_wrong_credentials_get_401_with_challenges(clip_cache: Path) -> None:
    async with running(small_config(clip_cache)) as farm:
        anonymous = await RtspClient.connect(_cam(farm, "cam-001").url)
        wrong = await _client(_cam(farm, "cam-001"), password="guess")
        try:
            denied = await anonymous.request("DESCRIBE")
            refused = await wrong.login()
        finally:
            await anonymous.close()
            await wrong.close()
    challenges = denied.headers["www-authenticate"]
    assert denied.status == 401
    assert challenges[0].startswith('Digest realm="eldercare-camera", nonce="')
    assert challenges[1] == 'Basic realm="eldercare-camera"'
    assert refused.status == 401


@pytest.mark.parametrize(("fault", "status"), [("unauthorized", 401), ("not_found", 404)])
async def test_dialogue_faults(clip_cache: Path, fault: str, status: int) -> None:
    config = small_config(clip_cache, {"cam-002": Fault(fault)})
    async with running(config) as farm:
        client = await _client(_cam(farm, "cam-002"))
        try:
            reply = await client.login()
        finally:
            await client.close()
    assert reply.status == status


async def test_refused_closes_the_port_until_cleared(clip_cache: Path) -> None:
    async with running(small_config(clip_cache, {"cam-002": Fault.REFUSED})) as farm:
        url = _cam(farm, "cam-002")
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection(url.host, url.port)
        await farm.set_fault("cam-002", Fault.NONE)
        client = await _client(_cam(farm, "cam-002"))
        try:
            assert (await client.login()).status == 200
            await farm.set_fault("cam-002", Fault.REFUSED)  # cuts the open connection too
            # a cut connection ends with EOF, or with a reset
            async with asyncio.timeout(5):
                with contextlib.suppress(ConnectionResetError):
                    assert await client.reader.read() == b""
        finally:
            await client.close()


async def test_offline_accepts_and_never_answers(clip_cache: Path) -> None:
    async with running(small_config(clip_cache, {"cam-001": Fault.OFFLINE})) as farm:
        client = await _client(_cam(farm, "cam-001"))
        try:
            client.writer.write(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.5):
                    await client.reader.read(1)
        finally:
            await client.close()


async def test_stall_stops_media_but_keeps_the_connection(clip_cache: Path) -> None:
    async with running(small_config(clip_cache, {"cam-001": Fault.STALL})) as farm:
        client = await _client(_cam(farm, "cam-001"))
        try:
            await client.play_tcp()
            async with asyncio.timeout(10):
                await client.next_video()
                with pytest.raises(TimeoutError):  # read until the flow dries up
                    await _drain_until_quiet(client, quiet=1.0)
            assert (await client.request("GET_PARAMETER")).status == 200
        finally:
            await client.close()


async def _drain_until_quiet(client: RtspClient, quiet: float) -> None:
    while True:
        async with asyncio.timeout(quiet):
            await client.next_rtp()


async def test_low_fps_paces_one_frame_per_second(clip_cache: Path) -> None:
    async with running(small_config(clip_cache, {"cam-001": Fault.LOW_FPS})) as farm:
        client = await _client(_cam(farm, "cam-001"))
        try:
            await client.play_tcp()
            frames = await _read_frames(client, 2)
        finally:
            await client.close()
    assert frames[1][0].timestamp - frames[0][0].timestamp == 90000


async def test_garbage_gets_400_and_a_closed_connection(clip_cache: Path) -> None:
    async with running(small_config(clip_cache)) as farm:
        info = _cam(farm, "cam-001")
        reader, writer = await asyncio.open_connection(info.host, info.port)
        try:
            writer.write(b"\x16\x03\x01 hello\r\nCSeq: 4\r\n\r\n")
            async with asyncio.timeout(5):
                reply = await reader.read()
        finally:
            writer.close()
    assert reply.startswith(b"RTSP/1.0 400 Bad Request\r\nCSeq: 4\r\n")


async def test_play_with_unknown_session_is_454(clip_cache: Path) -> None:
    async with running(small_config(clip_cache)) as farm:
        client = await _client(_cam(farm, "cam-001"))
        try:
            await client.login()
            await client.request("SETUP", Transport="RTP/AVP/TCP;unicast;interleaved=0-1")
            client.session = "nope"
            reply = await client.request("PLAY")
        finally:
            await client.close()
    assert reply.status == 454


async def test_control_endpoint_sets_faults(clip_cache: Path) -> None:
    seen: list[str] = []
    config = small_config(clip_cache)
    farm = CameraFarm(config, on_change=lambda rows, change: seen.append(str(change)))
    async with running(config, farm), httpx.AsyncClient(base_url=farm.control_url or "") as http:
        posted = await http.post("/cameras/cam-003/fault", json={"fault": "black"})
        listed = await http.get("/cameras")
        missing = await http.post("/cameras/cam-009/fault", json={"fault": "black"})
        assert _cam(farm, "cam-003").fault is Fault.BLACK
    assert posted.status_code == 200
    assert posted.json()["fault"] == "black"
    assert [c["fault"] for c in listed.json()["cameras"]] == ["none", "none", "black"]
    assert missing.status_code == 404
    assert seen[0] == "None"  # the ready notification
    assert "cam-003" in seen[1]


async def test_scheduled_faults_are_set_and_cleared(clip_cache: Path) -> None:
    changes: list[tuple[str, Fault]] = []
    step = ScheduledFault(at=0.1, camera="cam-002", fault=Fault.BLACK, duration=0.2)
    config = small_config(clip_cache, scenario=Scenario(schedule=(step,)))
    cleared = asyncio.Event()

    def record(rows: object, change: CameraInfo | None) -> None:
        if change is not None:
            changes.append((change.camera_id, change.fault))
            if change.fault is Fault.NONE:
                cleared.set()

    async with running(config, CameraFarm(config, on_change=record)):
        async with asyncio.timeout(10):
            await cleared.wait()
    assert changes == [("cam-002", Fault.BLACK), ("cam-002", Fault.NONE)]


async def test_busy_port_fails_start(clip_cache: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        config = small_config(clip_cache, base_port=busy.getsockname()[1], count=1)
        farm = CameraFarm(config)
        with pytest.raises(FarmError, match="cannot bind"):
            async with asyncio.timeout(30):
                await farm.run()
        with pytest.raises(FarmError):
            await farm.wait_ready()


async def test_stop_closes_every_port(clip_cache: Path) -> None:
    async with running(small_config(clip_cache)) as farm:
        info = _cam(farm, "cam-001")
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(info.host, info.port)
