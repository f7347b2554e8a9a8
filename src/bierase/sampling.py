"""Seeded image generation with any diffusers text-to-image pipeline.

Each image has its own seed and its own ``torch.Generator``, so an image is
the same whatever batch it is generated in: a prompt set with seeds is a
reproducible benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm


@dataclass(frozen=True)
class SamplingConfig:
    num_inference_steps: int = 30
    guidance_scale: float = 4.0
    batch_size: int = 64


def generate(
    pipe,
    prompts: Sequence[str],
    seeds: Sequence[int],
    config: SamplingConfig = SamplingConfig(),
    ip_adapter_image: Sequence[np.ndarray] | None = None,
    desc: str = "generate",
) -> np.ndarray:
    """uint8 NHWC images, one per (prompt, seed)."""
    if len(prompts) != len(seeds):
        raise ValueError(f"got {len(prompts)} prompts but {len(seeds)} seeds; give one seed per prompt")
    device = pipe.device
    # The pipelines share one set of IP-Adapter embeddings across a call's whole batch (they
    # repeat it per prompt), so per-prompt reference images go one prompt per call.
    batch_size = 1 if ip_adapter_image is not None else config.batch_size
    out = []
    for start in tqdm(range(0, len(prompts), batch_size), desc=desc):
        stop = start + batch_size
        kwargs = {}
        if ip_adapter_image is not None:
            kwargs["ip_adapter_image_embeds"] = _image_embeds(pipe, ip_adapter_image[start:stop], config)
        result = pipe(
            list(prompts[start:stop]),
            num_inference_steps=config.num_inference_steps,
            guidance_scale=config.guidance_scale,
            generator=[torch.Generator(device).manual_seed(int(s)) for s in seeds[start:stop]],
            output_type="np",
            **kwargs,
        )
        out.append((result.images * 255).round().clip(0, 255).astype(np.uint8))
    return np.concatenate(out)


def _image_embeds(pipe, images: Sequence[np.ndarray], config: SamplingConfig) -> list[torch.Tensor]:
    """IP-Adapter embeddings for one call, in the layout the pipelines take (uncond first under guidance)."""
    pixels = pipe.feature_extractor(images=list(images), return_tensors="pt").pixel_values
    with torch.no_grad():
        embeds = pipe.image_encoder(pixels.to(pipe.device, pipe.image_encoder.dtype)).image_embeds[:, None]
    if config.guidance_scale > 1:
        embeds = torch.cat([torch.zeros_like(embeds), embeds])
    return [embeds]
