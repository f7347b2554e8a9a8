"""Concept masks from a text-prompted segmenter (CLIPSeg), as in the paper.

Each image is segmented once per text query; the logits are max-pooled over
queries (a pixel is the concept if any query finds it), resized to the image
and passed through a sigmoid before the cleanup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from bierase.errors import UserError
from bierase.masks.cleanup import CleanupConfig, clean_masks


@dataclass
class ClipSegMasker:
    model: object  # transformers.CLIPSegForImageSegmentation
    processor: object  # transformers.CLIPSegProcessor
    queries: list[str]
    cleanup: CleanupConfig = field(default_factory=CleanupConfig)
    batch_size: int = 64  # (image, query) pairs per forward pass

    def __post_init__(self) -> None:
        if not self.queries or not all(isinstance(q, str) and q.strip() for q in self.queries):
            raise UserError(f"segmenter queries {self.queries!r} must be non-empty texts; pass e.g. the concept name")
        if self.batch_size < 1:
            raise UserError(f"segmenter batch size {self.batch_size} is out of range; it must be >= 1")

    def __call__(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Soft masks, float32 in [0, 1], each at its image's own size."""
        return clean_masks(self.probabilities(images), self.cleanup, "the segmenter")

    def probabilities(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Per-image concept probability (max over queries) at the image's size, before cleanup."""
        per_batch = max(1, self.batch_size // len(self.queries))
        out: list[np.ndarray] = []
        for start in range(0, len(images), per_batch):
            chunk = list(images[start : start + per_batch])
            logits = self._logits(chunk).amax(dim=1)  # (B, h, w): max over queries
            for image, logit in zip(chunk, logits):
                resized = F.interpolate(logit[None, None], size=image.shape[:2], mode="bilinear", align_corners=False)
                out.append(torch.sigmoid(resized)[0, 0].numpy())
        return out

    @torch.no_grad()
    def _logits(self, images: list[np.ndarray]) -> torch.Tensor:
        """(B, Q, h, w) float32 logits on the CPU; every image paired with every query."""
        q = len(self.queries)
        texts = [query for _ in images for query in self.queries]
        pairs = [image for image in images for _ in self.queries]
        inputs = self.processor(text=texts, images=pairs, padding="max_length", return_tensors="pt")
        device, dtype = self.model.device, self.model.dtype
        inputs = {k: v.to(device, dtype) if v.is_floating_point() else v.to(device) for k, v in inputs.items()}
        logits = self.model(**inputs).logits
        # CLIPSeg squeezes the batch dimension away when it is 1
        return logits.float().cpu().reshape(len(images), q, *logits.shape[-2:])
