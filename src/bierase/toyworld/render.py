"""The renderer: one object on a plain background, with its ground-truth mask.

Deterministic from a seed. Shapes are drawn on a 3x supersampled grid and
averaged down, so edges are anti-aliased and the mask is the object's pixel
coverage in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bierase.toyworld.vocabulary import BACKGROUNDS, COLOURS, PATTERNS, SHAPES

IMAGE_SIZE = 32
_SUPERSAMPLE = 3

RGB: dict[str, tuple[int, int, int]] = {
    "red": (215, 35, 35),
    "orange": (245, 140, 25),
    "yellow": (240, 220, 40),
    "green": (40, 165, 60),
    "blue": (40, 80, 220),
    "purple": (145, 50, 190),
    "nude": (235, 185, 150),
    "clothed": (235, 185, 150),  # same skin tone; the garment band is drawn on top
    "black": (15, 15, 15),
    "white": (240, 240, 240),
    "gray": (128, 128, 128),
}
GARMENT_RGB = (35, 55, 110)
PATTERN_DARKEN = 0.35


@dataclass(frozen=True)
class ObjectSpec:
    """What to draw. Attribute values are the canonical names of vocabulary.py."""

    shape: str
    colour: str
    pattern: str
    background: str

    def __post_init__(self) -> None:
        for name, table in (("shape", SHAPES), ("colour", COLOURS), ("pattern", PATTERNS), ("background", BACKGROUNDS)):
            if getattr(self, name) not in table:
                raise ValueError(f"unknown {name} {getattr(self, name)!r}; choose one of {sorted(table)}")


_COORDS = (np.arange(IMAGE_SIZE * _SUPERSAMPLE) + 0.5) / _SUPERSAMPLE  # pixel units
_GRID = np.meshgrid(_COORDS, _COORDS)


def _shape_inside(shape: str, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Membership of local coordinates (object spans about [-1, 1], y down)."""
    if shape == "circle":
        return u**2 + v**2 <= 0.9**2
    if shape == "square":
        return np.maximum(np.abs(u), np.abs(v)) <= 0.78
    if shape == "diamond":
        return np.abs(u) + np.abs(v) <= 1.0
    if shape == "cross":
        return ((np.abs(u) <= 0.3) & (np.abs(v) <= 0.95)) | ((np.abs(v) <= 0.3) & (np.abs(u) <= 0.95))
    if shape == "triangle":
        # apex up at (0, -0.95), base at v = 0.75
        return (v <= 0.75) & (v >= -0.95 + 1.79 * np.abs(u))
    if shape == "star":
        theta = np.arctan2(u, -v)  # angle from "up", so a point faces up
        rho = np.hypot(u, v)
        sector = 2 * np.pi / 5
        alpha = np.mod(theta, sector)
        phi = np.minimum(alpha, sector - alpha)  # fold onto [0, pi/5]
        outer, inner = 1.0, 0.42
        p1 = np.array([outer, 0.0])
        p2 = np.array([inner * np.cos(sector / 2), inner * np.sin(sector / 2)])
        x, y = rho * np.cos(phi), rho * np.sin(phi)
        # inside when on the origin's side of the edge p1 -> p2
        cross = (p2[0] - p1[0]) * (y - p1[1]) - (p2[1] - p1[1]) * (x - p1[0])
        return cross >= 0
    raise ValueError(f"unknown shape {shape!r}")


def _pattern_marks(pattern: str, x: np.ndarray, y: np.ndarray, phase: tuple[float, float]) -> np.ndarray:
    """Where the darker pattern colour goes, in pixel coordinates."""
    px, py = x + phase[0], y + phase[1]
    if pattern == "solid":
        return np.zeros_like(x, dtype=bool)
    if pattern == "striped":
        return np.mod(py, 6.0) < 3.0
    if pattern == "dotted":
        dx, dy = np.mod(px, 6.0) - 3.0, np.mod(py, 6.0) - 3.0
        return dx**2 + dy**2 <= 1.6**2
    if pattern == "checkered":
        return (np.floor(px / 4.0) + np.floor(py / 4.0)) % 2 == 0
    raise ValueError(f"unknown pattern {pattern!r}")


def render(spec: ObjectSpec, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``spec`` with a random placement. Returns (uint8 HxWx3 image, float32 HxW mask)."""
    n = IMAGE_SIZE * _SUPERSAMPLE
    x, y = _GRID
    radius = rng.uniform(9.0, 12.5)
    cx = IMAGE_SIZE / 2 + rng.uniform(-3.0, 3.0)
    cy = IMAGE_SIZE / 2 + rng.uniform(-3.0, 3.0)
    angle = np.deg2rad(rng.uniform(-10.0, 10.0))
    du, dv = (x - cx) / radius, (y - cy) / radius
    u = np.cos(angle) * du + np.sin(angle) * dv
    v = -np.sin(angle) * du + np.cos(angle) * dv

    inside = _shape_inside(spec.shape, u, v)
    colour = np.array(RGB[spec.colour], dtype=np.float32)
    fill = np.broadcast_to(colour, (n, n, 3)).copy()
    phase = (rng.uniform(0, 6), rng.uniform(0, 6))
    marks = _pattern_marks(spec.pattern, x, y, phase)
    fill[marks] = colour * PATTERN_DARKEN
    if spec.colour == "clothed":
        garment = (v >= -0.15) & (v <= 0.55)
        fill[garment] = GARMENT_RGB

    canvas = np.broadcast_to(np.array(RGB[spec.background], dtype=np.float32), (n, n, 3)).copy()
    canvas[inside] = fill[inside]
    # average supersampled blocks down to the output size
    image = canvas.reshape(IMAGE_SIZE, _SUPERSAMPLE, IMAGE_SIZE, _SUPERSAMPLE, 3).mean(axis=(1, 3))
    mask = inside.reshape(IMAGE_SIZE, _SUPERSAMPLE, IMAGE_SIZE, _SUPERSAMPLE).mean(axis=(1, 3))
    return np.clip(np.rint(image), 0, 255).astype(np.uint8), mask.astype(np.float32)
