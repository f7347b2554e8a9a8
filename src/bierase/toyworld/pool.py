"""A pool of rendered training samples, as tensors, shared by every trainer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from bierase.toyworld.world import ATTRIBUTES, Batch, sample_batch


@dataclass
class Pool:
    images: torch.Tensor  # (N, 3, H, W) float in [-1, 1]
    masks: torch.Tensor  # (N, H, W) float coverage
    captions: list[str]
    labels: dict[str, torch.Tensor]  # attribute -> (N,) long

    def __len__(self) -> int:
        return len(self.captions)

    def draw(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """Random indices into the pool."""
        return torch.randint(len(self), (batch_size,), generator=generator)


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 NHWC -> float NCHW in [-1, 1], the diffusers convention."""
    return torch.from_numpy(images).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def tensor_to_images(x: torch.Tensor) -> np.ndarray:
    return ((x.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).cpu().numpy()


def from_batch(batch: Batch) -> Pool:
    return Pool(
        images=images_to_tensor(batch.images),
        masks=torch.from_numpy(batch.masks),
        captions=batch.captions,
        labels={a: torch.from_numpy(batch.labels(a)) for a in ATTRIBUTES},
    )


def render_pool(size: int, seed: int, chunk: int = 1000, name_rate: float = 0.0) -> Pool:
    """``size`` captioned renders; ``name_rate`` of them of names (training pools only: evaluation
    pools keep the default, so they are the same images as before the world had names)."""
    rng = np.random.default_rng(seed)
    parts = [
        sample_batch(min(chunk, size - start), rng, name_rate=name_rate)
        for start in tqdm(range(0, size, chunk), desc="render")
    ]
    return from_batch(
        Batch(
            images=np.concatenate([p.images for p in parts]),
            masks=np.concatenate([p.masks for p in parts]),
            captions=[c for p in parts for c in p.captions],
            specs=[s for p in parts for s in p.specs],
        )
    )
