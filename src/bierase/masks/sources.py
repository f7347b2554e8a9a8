"""Soft masks of the concept region in reference images, from one of several sources.

``clipseg``: a text-prompted segmenter (the paper's choice); ``cross_attention``:
the diffusion UNet's own attention to the concept (no extra model);
``none``: keep every pixel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bierase.errors import UserError
from bierase.masks import MASK_SOURCES
from bierase.masks.cleanup import CleanupConfig
from bierase.masks.none import full_masks


def make_masks(
    source: str,
    images: Sequence[np.ndarray],
    *,
    segmenter: tuple | None = None,
    queries: Sequence[str] | None = None,
    pipe=None,
    concept: str | None = None,
    cleanup: CleanupConfig = CleanupConfig(),
) -> list[np.ndarray]:
    """float32 masks in [0, 1], one per image at its size.

    ``segmenter`` is the ``(model, processor)`` pair that ``load_segmenter``
    returns; ``clipseg`` needs it and ``queries``, ``cross_attention`` needs
    ``pipe`` and ``concept``.
    """
    if source == "clipseg":
        if segmenter is None or not queries:
            raise UserError("clipseg masks need a segmenter and text queries; pass both, or another mask source")
        from bierase.masks.clipseg import ClipSegMasker

        model, processor = segmenter
        return ClipSegMasker(model, processor, list(queries), cleanup)(images)
    if source == "cross_attention":
        if pipe is None or not concept:
            raise UserError("cross_attention masks need the pipeline and the concept; pass both, or another source")
        from bierase.masks.cross_attention import CrossAttentionMasker

        return CrossAttentionMasker(pipe, concept, cleanup=cleanup)(images)
    if source == "none":
        return full_masks(images)
    raise UserError(f"unknown mask source {source!r}; choose one of {', '.join(MASK_SOURCES)}")


__all__ = ["CleanupConfig", "make_masks"]
