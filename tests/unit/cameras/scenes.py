"""Synthetic camera pictures: healthy scenes, their look-alikes and every fault."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from gateway.cameras.analysis import FrameSample, Gray, Measures

WIDTH, HEIGHT = 320, 180
FRAMES = 8
Image = npt.NDArray[np.uint8]

HEALTHY = Measures(  # a typical daytime room, as measured
    frames=8,
    fps=25.0,
    motion=2.5,
    mean_luma=120.0,
    bright_fraction=0.9,
    saturated_fraction=0.0,
    spread=120.0,
    contrast=0.6,
    sharpness=0.03,
    detail=0.5,
    cell_sharpness=(0.03,) * 24 + (0.0,) * 24,
    cell_std=(20.0,) * 24 + (4.0,) * 24,
    flat_fraction=0.1,
    noise=2.0,
    colour_cast=0.05,
    colourfulness=0.05,
    chromaticity=(0.32, 0.33, 0.35),
    edge_map=(0.5, -0.5, 0.5, -0.5),
)


def to_image(values: object) -> Image:
    """Any array of grey values, clipped into an 8-bit image."""
    return np.clip(np.asarray(values, dtype=np.float64), 0, 255).astype(np.uint8)


def blurred(image: Image, sigma: float) -> Image:
    """The image through a defocused lens."""
    return to_image(cv2.GaussianBlur(image, (0, 0), sigma))


def room(seed: int = 1) -> Image:
    """A furnished room in daylight: shading, furniture blocks, edges and texture."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    image = 90 + 60 * x / WIDTH + 20 * y / HEIGHT
    for _ in range(14):
        x0, y0 = int(rng.integers(0, WIDTH - 40)), int(rng.integers(0, HEIGHT - 30))
        w, h = int(rng.integers(15, 90)), int(rng.integers(10, 70))
        image[y0 : y0 + h, x0 : x0 + w] = rng.integers(20, 235)
    for _ in range(6):
        p1 = (int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT)))
        p2 = (int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT)))
        cv2.line(image, p1, p2, float(rng.integers(0, 255)), 2)
    texture = cv2.GaussianBlur(rng.normal(0, 12, (HEIGHT, WIDTH)), (0, 0), 0.8)
    return to_image(image + texture)


def dark_corridor() -> Image:
    """A corridor at night: nearly black, dim walls and floor, two ceiling lamps."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    image = 6 + 18 * (y / HEIGHT) ** 2 + 8 * (np.abs(x - WIDTH / 2) / WIDTH)
    cv2.line(image, (0, HEIGHT), (130, 70), 38.0, 2)
    cv2.line(image, (WIDTH, HEIGHT), (190, 70), 38.0, 2)
    cv2.rectangle(image, (140, 60), (180, 110), 30.0, 2)
    for cx in (100, 220):
        cv2.circle(image, (cx, 20), 9, 255.0, -1)
        cv2.circle(image, (cx, 20), 22, 70.0, 2)
    return to_image(image)


def white_wall() -> Image:
    """A bare, sharp, evenly lit wall with a door frame and a switch."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    image = 205 + 15 * x / WIDTH - 10 * y / HEIGHT
    cv2.rectangle(image, (200, 30), (260, HEIGHT + 5), 120.0, 2)
    cv2.rectangle(image, (120, 80), (128, 92), 170.0, -1)
    return to_image(image)


def live(base: Image, noise: float = 2.5, seed: int = 7, frames: int = FRAMES) -> list[Gray]:
    """The same scene as a live sensor sees it: fresh noise in every frame."""
    rng = np.random.default_rng(seed)
    return [
        np.clip(base + rng.normal(0, noise, base.shape), 0, 255).astype(np.uint8)
        for _ in range(frames)
    ]


def person_walking(base: Image, seed: int = 7) -> list[Gray]:
    """A live scene with a person crossing the picture."""
    frames = live(base, seed=seed)
    for i, frame in enumerate(frames):
        x0 = 20 + i * 35
        cv2.rectangle(frame, (x0, 40), (x0 + 30, 170), 35, -1)
        cv2.circle(frame, (x0 + 15, 28), 12, 180, -1)
    return frames


def colour(gray: Gray, gains: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Image:
    """A small BGR thumbnail of a grey frame with per-channel gains."""
    small = cv2.resize(gray, (64, 36), interpolation=cv2.INTER_AREA).astype(np.float32)
    bgr = np.stack([small * g for g in gains], axis=-1)
    return np.clip(bgr, 0, 255).astype(np.uint8)


def sample(
    grays: list[Gray],
    gains: tuple[float, float, float] = (1.0, 1.0, 1.0),
    fps: float = 25.0,
) -> FrameSample:
    """A probe sample: the frames, a thumbnail of the last one, 2 s of timestamps."""
    count = max(2, int(fps * 2))
    stamps = [i / fps for i in range(count)]
    return FrameSample(grays=grays, thumbnail=colour(grays[-1], gains), timestamps=stamps)


def shifted(base: Image, dx: int) -> Image:
    """The scene as seen after the camera turned by ``dx`` pixels."""
    moved = np.empty_like(base)
    moved[:, : WIDTH - dx] = base[:, dx:]
    moved[:, WIDTH - dx :] = room(seed=99)[:, :dx]  # what comes into view
    return moved
