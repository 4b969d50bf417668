"""Synthetic facility pictures: a pure function from a clip spec to BGR frames.

A scene is a room or a corridor with textured walls, furniture, a handrail and a
window, a slowly walking resident, and an on-screen clock with a frame counter.
Mild sensor noise makes consecutive frames of a live scene differ. Picture faults
are transforms of that scene; the overlay counts as part of the optics, so a fault
acts on it too (except ``black``, a capped lens, where only the overlay remains).
Everything is seeded by the spec, so a spec always renders the same
frames and an encoded clip can be cached under the spec's key.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import cv2
import numpy as np
import numpy.typing as npt

from device_sim.cameras.clips import RENDER_VERSION, ClipSpec
from device_sim.cameras.faults import Fault

Frame = npt.NDArray[np.uint8]


def render_frames(spec: ClipSpec) -> Iterator[Frame]:
    """Every frame of one loop of ``spec``, in order."""
    room = _room(spec.variant, spec.width, spec.height)
    if spec.fault is Fault.MOVED:
        room = _shift_view(room)
    rng = np.random.default_rng([RENDER_VERSION, spec.variant, list(Fault).index(spec.fault)])
    for index in range(spec.frame_count):
        frame = _live_frame(spec, room, index)
        frame = _apply_fault(frame, spec.fault, rng)
        if spec.fault is Fault.BLACK:  # a capped lens still gets the camera's clock stamped on
            _draw_overlay(frame, spec, index, index / spec.fps)
        if spec.fault is not Fault.FROZEN:
            frame = _sensor_noise(frame, rng, 2 if spec.fault is Fault.BLACK else 4)
        yield frame


def _live_frame(spec: ClipSpec, room: Frame, index: int) -> Frame:
    frame = room.copy()
    t = index / spec.fps
    phase = 2 * math.pi * t / spec.seconds  # one full walk per loop, so the loop is seamless
    _draw_resident(frame, spec.variant, phase)
    _draw_overlay(frame, spec, index, t)
    return frame


def _room(variant: int, width: int, height: int) -> Frame:
    rng = np.random.default_rng([RENDER_VERSION, 7, variant])
    wall = rng.integers(120, 220, size=3)
    floor = rng.integers(60, 150, size=3)
    img = np.empty((height, width, 3), np.uint8)
    horizon = int(height * rng.uniform(0.55, 0.68))
    img[:horizon] = wall
    img[horizon:] = floor
    texture = cv2.resize(
        rng.normal(0, 14, (max(2, height // 24), max(2, width // 24))).astype(np.float32),
        (width, height),
        interpolation=cv2.INTER_CUBIC,
    )
    fine = rng.normal(0, 5, (height, width)).astype(np.float32)
    img = np.clip(img + (texture + fine)[..., None], 0, 255).astype(np.uint8)
    if variant % 2:
        _corridor(img, rng, horizon)
    else:
        _bedroom(img, rng, horizon)
    return img


def _bedroom(img: Frame, rng: np.random.Generator, horizon: int) -> None:
    h, w = img.shape[:2]
    wx = int(w * rng.uniform(0.05, 0.6))
    _box(img, (wx, h // 10), (wx + w // 4, horizon - h // 5), (235, 215, 170), (90, 90, 90))
    cv2.line(img, (wx + w // 8, h // 10), (wx + w // 8, horizon - h // 5), (90, 90, 90), 3)
    bed_x = int(w * rng.uniform(0.0, 0.45))
    _box(img, (bed_x, horizon - h // 12), (bed_x + w // 2, horizon + h // 5), (200, 200, 215), None)
    _box(img, (bed_x + 8, horizon - h // 9), (bed_x + w // 8, horizon), (245, 245, 245), None)
    tx = (bed_x + w // 2 + w // 10) % (w - w // 6)
    _box(img, (tx, horizon), (tx + w // 6, horizon + h // 20), (40, 80, 120), None)
    cv2.rectangle(img, (tx + 6, horizon), (tx + 14, horizon + h // 4), (30, 60, 95), -1)
    cv2.rectangle(
        img, (tx + w // 6 - 14, horizon), (tx + w // 6 - 6, horizon + h // 4), (30, 60, 95), -1
    )


def _corridor(img: Frame, rng: np.random.Generator, horizon: int) -> None:
    h, w = img.shape[:2]
    vx = int(w * rng.uniform(0.35, 0.65))
    for x in range(-w, 2 * w, w // 8):  # floor tiles converge on the vanishing point
        cv2.line(img, (vx, horizon), (x, h), (70, 70, 70), 1)
    for k in range(1, 6):
        y = horizon + (h - horizon) * k * k // 25
        cv2.line(img, (0, y), (w, y), (70, 70, 70), 1)
    rail = horizon - h // 7
    cv2.line(img, (0, rail), (w, rail), (60, 110, 160), 5)
    for k in range(3):
        dx = int(w * (0.1 + 0.3 * k + rng.uniform(0, 0.1)))
        _box(img, (dx, h // 5), (dx + w // 9, horizon), (70, 110, 150), (40, 60, 80))
        cv2.circle(img, (dx + w // 11, (h // 5 + horizon) // 2), 3, (200, 200, 200), -1)


def _box(
    img: Frame,
    p0: tuple[int, int],
    p1: tuple[int, int],
    fill: tuple[int, int, int],
    edge: tuple[int, int, int] | None,
) -> None:
    cv2.rectangle(img, p0, p1, fill, -1)
    if edge is not None:
        cv2.rectangle(img, p0, p1, edge, 2)


def _draw_resident(img: Frame, variant: int, phase: float) -> None:
    h, w = img.shape[:2]
    cx = int(w * (0.5 + 0.3 * math.sin(phase + variant)))
    feet = int(h * 0.88)
    tall = h // 2
    body = (60 + 25 * variant % 120, 90, 140 - 10 * variant % 80)
    cv2.rectangle(img, (cx - w // 28, feet - tall * 3 // 4), (cx + w // 28, feet), body, -1)
    cv2.circle(img, (cx, feet - tall * 7 // 8), max(3, tall // 9), (150, 180, 215), -1)


def _draw_overlay(img: Frame, spec: ClipSpec, index: int, t: float) -> None:
    seconds = 8 * 3600 + spec.variant * 97 + t
    clock = f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}:{seconds % 60:04.1f}"
    text = f"SCENE {spec.variant}  {clock}  #{index:04d}"
    scale = max(0.35, spec.width / 1100)
    org = (8, max(14, int(22 * scale * 1.6)))
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


def _shift_view(room: Frame) -> Frame:
    h, w = room.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 9.0, 1.25)
    matrix[:, 2] += (w * 0.3, -h * 0.12)
    return _u8(cv2.warpAffine(room, matrix, (w, h), borderMode=cv2.BORDER_REFLECT))


def _apply_fault(frame: Frame, fault: Fault, rng: np.random.Generator) -> Frame:
    h, w = frame.shape[:2]
    if fault is Fault.BLACK:
        return np.zeros_like(frame)
    if fault is Fault.OVEREXPOSED:
        return _u8(cv2.convertScaleAbs(frame, alpha=2.2, beta=150))
    if fault is Fault.BLURRED:
        return _u8(cv2.GaussianBlur(frame, (0, 0), sigmaX=max(4.0, w / 40)))
    if fault is Fault.OCCLUDED:
        return _occlude(frame)
    if fault is Fault.SNOW:
        noise = rng.integers(0, 256, (h // 2, w // 2), dtype=np.uint8)
        snow = cv2.resize(noise, (w, h), interpolation=cv2.INTER_NEAREST)[..., None]
        return _u8(cv2.addWeighted(frame, 0.2, np.repeat(snow, 3, axis=2), 0.8, 0))
    if fault is Fault.COLOR_CAST:
        cast = frame * np.array([0.35, 0.35, 0.6]) + np.array([0.0, 0.0, 140.0])
        return _u8(np.clip(cast, 0, 255))
    return frame


def _occlude(frame: Frame) -> Frame:
    h, w = frame.shape[:2]
    shape = np.zeros((h, w), np.float32)
    cv2.ellipse(shape, (w * 2 // 5, h * 3 // 5), (w * 3 // 5, h * 4 // 5), 20, 0, 360, 1.0, -1)
    mask = np.asarray(cv2.GaussianBlur(shape, (0, 0), sigmaX=w / 30), np.float32)[..., None]
    shade = np.linspace(18, 34, w, dtype=np.float32)[None, :, None]
    cover = np.broadcast_to(shade * np.array([0.9, 1.0, 1.2], np.float32), frame.shape)
    blended = frame.astype(np.float32) * (1 - mask) + cover * mask
    return _u8(blended)


def _sensor_noise(frame: Frame, rng: np.random.Generator, amplitude: int) -> Frame:
    noise = rng.integers(-amplitude, amplitude + 1, frame.shape, dtype=np.int16)
    return _u8(np.clip(frame.astype(np.int16) + noise, 0, 255))


def _u8(image: npt.ArrayLike) -> Frame:
    return np.asarray(image).astype(np.uint8, copy=False)
