"""The joint ``[text ; image]`` conditions the trained methods evaluate their UNets on.

Text goes through the pipeline's own ``encode_prompt``; images through the
IP-Adapter image encoder once, up front (they never change during training).
The image tokens are made by the UNet's IP-Adapter projection inside the
forward pass, exactly as at inference, through diffusers' ``load_ip_adapter``.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from tqdm.auto import tqdm


@torch.no_grad()
def encode_texts(pipe, prompts: dict[str, list[str]]) -> dict[str, torch.Tensor]:
    """``{key: (n, L, D)}`` text states, each key's prompts in one ``encode_prompt`` call."""
    return {key: encode_prompts(pipe, texts) for key, texts in prompts.items()}


@torch.no_grad()
def encode_images(
    pipe, images: list[np.ndarray], batch_size: int = 64, desc: str = "encode images", progress: bool = True
) -> torch.Tensor:
    """``image_embeds`` (N, D) of the IP-Adapter image encoder, through the pipeline's feature extractor."""
    out = []
    encoder = pipe.image_encoder
    for start in tqdm(range(0, len(images), batch_size), desc=desc, disable=not progress):
        pixels = pipe.feature_extractor(images=images[start : start + batch_size], return_tensors="pt").pixel_values
        out.append(encoder(pixels.to(encoder.device, encoder.dtype)).image_embeds.float().cpu())
    return torch.cat(out)


@torch.no_grad()
def encode_prompts(pipe, prompts: list[str]) -> torch.Tensor:
    """(P, L, D) text states of several prompts, through the pipeline's own ``encode_prompt``."""
    return pipe.encode_prompt(prompts, pipe.device, 1, False)[0]


@contextmanager
def image_branch_off(*unets: torch.nn.Module):
    """IP-Adapter scale 0 in these UNets, so that they answer as a plain pipeline does.

    It sets the per-processor ``scale`` that ``pipe.set_ip_adapter_scale`` sets, on any UNet,
    including the frozen teacher, which no pipeline holds.
    """
    processors = [
        p for unet in unets for p in unet.attn_processors.values() if isinstance(getattr(p, "scale", None), list)
    ]
    saved = [list(p.scale) for p in processors]
    for p in processors:
        p.scale[:] = [0.0] * len(p.scale)
    try:
        yield
    finally:
        for p, scale in zip(processors, saved):
            p.scale[:] = scale


def unet_inputs(text: torch.Tensor, image_embeds: torch.Tensor | None, image_on: torch.Tensor | None = None) -> dict:
    """Keyword arguments of a UNet call for (B, L, D) text states and (B, D) image embeddings (None: text only).

    ``image_on`` (B,) bools switch the image branch off for some samples of the call: IP-Adapter's own
    per-sample masks (``ip_adapter_masks``, a 1 x 1 mask each), so text-only and image-conditioned
    conditions share one call. A 0 mask adds exactly nothing, a 1 mask exactly the image tokens' attention
    (diffusers' bicubic resize of a constant 1 x 1 mask is exact), so each sample is what its own call gives.
    """
    if image_embeds is None:
        return {"encoder_hidden_states": text}
    inputs = {"encoder_hidden_states": text, "added_cond_kwargs": {"image_embeds": [image_embeds[:, None]]}}
    if image_on is not None:
        mask = image_on.to(image_embeds.device, image_embeds.dtype)[:, None, None, None]
        inputs["cross_attention_kwargs"] = {"ip_adapter_masks": [mask]}
    return inputs
