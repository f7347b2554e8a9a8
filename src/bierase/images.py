"""Writing generated images (uint8 NHWC arrays) to disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")  # what an image folder is read for


def save_images(images: np.ndarray, names: Sequence[str], folder: str | Path) -> list[Path]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / name for name in names]
    for image, path in zip(images, paths):
        Image.fromarray(image).save(path)
    return paths


def grid(images: np.ndarray, columns: int, scale: int = 4) -> np.ndarray:
    """Images tiled row by row, each upscaled ``scale`` times (nearest) so 32 px stays visible."""
    n, h, w, c = images.shape
    rows = -(-n // columns)
    canvas = np.full((rows * h, columns * w, c), 255, dtype=np.uint8)
    for i, image in enumerate(images):
        r, col = divmod(i, columns)
        canvas[r * h : (r + 1) * h, col * w : (col + 1) * w] = image
    return canvas.repeat(scale, 0).repeat(scale, 1)


def save_grid(images: np.ndarray, path: str | Path, columns: int, scale: int = 4) -> Path:
    Image.fromarray(grid(images, columns, scale)).save(path)
    return Path(path)
