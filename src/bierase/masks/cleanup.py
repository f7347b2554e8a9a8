"""From a per-pixel concept probability to a clean soft mask, as in the Bi-Erasing paper.

Threshold, drop specks, close small holes then open thin bridges with a disk,
and blur the edge so the mean-colour fill blends in instead of leaving a seam.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import ndimage

from bierase.errors import UserError

PAPER_SIZE = 512  # the defaults below are the paper's, in pixels of 512 px images


@dataclass(frozen=True)
class CleanupConfig:
    threshold: float = 0.45  # probability at or above which a pixel is the concept
    min_region_fraction: float = 0.01  # connected regions smaller than this share of the image are dropped
    radius: int = 3  # disk radius (px) of the morphological close and open; 0: none
    sigma: float = 2.0  # std (px) of the Gaussian that softens the edge; 0: a hard mask

    def __post_init__(self) -> None:
        if not 0 <= self.threshold <= 1:
            raise UserError(f"mask threshold {self.threshold} is out of range; it must be in [0, 1]")
        if not 0 <= self.min_region_fraction < 1:
            raise UserError(
                f"mask min_region_fraction {self.min_region_fraction} is out of range; it must be in [0, 1)"
            )
        if int(self.radius) != self.radius or self.radius < 0:
            raise UserError(f"mask radius {self.radius} is out of range; it must be a whole number >= 0")
        if self.sigma < 0:
            raise UserError(f"mask sigma {self.sigma} is out of range; it must be >= 0")

    def scaled_to(self, size: int) -> CleanupConfig:
        """The pixel sizes rescaled from the paper's 512 px to images of side ``size`` (e.g. 32 px toy images)."""
        factor = size / PAPER_SIZE
        return dataclasses.replace(self, radius=round(self.radius * factor), sigma=self.sigma * factor)


class CleanMask(NamedTuple):
    mask: np.ndarray  # float32 HxW in [0, 1]
    empty: bool  # nothing survived the cleanup; ``mask`` is then all ones (keep the whole image)


def disk(radius: int) -> np.ndarray:
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    return x * x + y * y <= radius * radius


def clean_mask(prob: np.ndarray, config: CleanupConfig = CleanupConfig()) -> CleanMask:
    """The cleaned soft mask of one HxW probability map.

    When no concept region survives, the mask is all ones rather than all
    zeros: a zero mask would turn the reference into a flat grey image, which
    is a worse condition than the unmasked image. ``empty`` tells the caller,
    who should say so (``clean_masks`` warns).
    """
    prob = np.asarray(prob, dtype=np.float32)
    if prob.ndim != 2:
        raise ValueError(f"expected an HxW probability map, got shape {prob.shape}")
    binary = prob >= config.threshold
    binary = _drop_small_regions(binary, config.min_region_fraction * binary.size)
    radius = int(config.radius)
    if radius > 0 and binary.any():
        # padded with edge values so a region touching the border is not eaten by the
        # erosions (scipy treats the outside as background)
        padded = np.pad(binary, radius + 1, mode="edge")
        padded = ndimage.binary_closing(padded, structure=disk(radius))
        padded = ndimage.binary_opening(padded, structure=disk(radius))
        binary = padded[radius + 1 : -(radius + 1), radius + 1 : -(radius + 1)]
    if not binary.any():
        return CleanMask(np.ones(prob.shape, np.float32), True)
    soft = binary.astype(np.float32)
    if config.sigma > 0:
        soft = ndimage.gaussian_filter(soft, config.sigma, mode="nearest")
    return CleanMask(np.clip(soft, 0, 1).astype(np.float32), False)


def _drop_small_regions(binary: np.ndarray, min_pixels: float) -> np.ndarray:
    labels, count = ndimage.label(binary, structure=np.ones((3, 3)))  # 8-connected
    if count == 0:
        return binary
    sizes = np.bincount(labels.ravel())
    keep = sizes >= min_pixels
    keep[0] = False  # label 0 is the background
    return keep[labels]


def clean_masks(probs: Sequence[np.ndarray], config: CleanupConfig, source: str) -> list[np.ndarray]:
    """``clean_mask`` of each map; one warning lists the images where ``source`` found no concept region."""
    cleaned = [clean_mask(prob, config) for prob in probs]
    empty = [i for i, result in enumerate(cleaned) if result.empty]
    if empty:
        shown = ", ".join(map(str, empty[:20])) + (", ..." if len(empty) > 20 else "")
        warnings.warn(
            f"{source} found no concept region in {len(empty)} of {len(cleaned)} reference images (indices {shown}); "
            f"they are used unmasked. Lower the mask threshold (now {config.threshold}) or check the mask queries",
            stacklevel=3,
        )
    return [result.mask for result in cleaned]
