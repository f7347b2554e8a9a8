"""The paper's background fill: x' = M * x + (1 - M) * mean_rgb(x).

Filling with the image's own mean colour (not black or grey) keeps the
image's overall colour statistics, so the image embedding changes only
through what the mask removed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def mean_fill(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 ``image`` with everything outside the soft HxW ``mask`` blended to its mean colour."""
    if image.ndim != 3 or image.shape[-1] != 3 or mask.shape != image.shape[:2]:
        raise ValueError(f"expected an HxWx3 image and an HxW mask, got {image.shape} and {mask.shape}")
    x = image.astype(np.float32)
    mean = x.reshape(-1, 3).mean(axis=0)  # over the whole image, per channel
    m = np.clip(mask.astype(np.float32), 0, 1)[..., None]
    return (m * x + (1 - m) * mean).round().clip(0, 255).astype(np.uint8)


def mean_fill_all(images: Sequence[np.ndarray], masks: Sequence[np.ndarray]) -> list[np.ndarray]:
    if len(images) != len(masks):
        raise ValueError(f"got {len(images)} images but {len(masks)} masks")
    return [mean_fill(image, mask) for image, mask in zip(images, masks)]
