"""The joint ``[text ; image]`` conditions the trained methods evaluate their UNets on.

Text goes through the pipeline's own ``encode_prompt``; images through the
IP-Adapter image encoder once, up front (they never change during training).
The image tokens are made by the UNet's IP-Adapter projection inside the
forward pass, exactly as at inference, through diffusers' ``load_ip_adapter``.

SDXL's UNet takes two more conditions, both through ``added_cond_kwargs``: the
second text encoder's pooled embedding of the prompt (``text_embeds``, carried
row for row beside the text states) and six size "time ids" (``time_ids``).
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import torch
from tqdm.auto import tqdm

from bierase.pipelines import is_sdxl


class TextTables(dict):
    """``{key: (n, L, D)}`` text states, indexed per sample by the trainer; on SDXL, ``pooled`` holds
    ``{key: (n, P)}``, each prompt's pooled embedding in the same row (it is empty on SD 1.x and 2.x)."""

    def __init__(self, states: dict[str, torch.Tensor], pooled: dict[str, torch.Tensor] | None = None):
        super().__init__(states)
        self.pooled = pooled or {}


@torch.no_grad()
def encode_texts(pipe, prompts: dict[str, list[str]]) -> TextTables:
    """``{key: (n, L, D)}`` text states (and SDXL's pooled embeddings), each key's prompts in one call."""
    encoded = {key: encode_prompts_pooled(pipe, texts) for key, texts in prompts.items()}
    pooled = {key: p for key, (_, p) in encoded.items() if p is not None}
    return TextTables({key: states for key, (states, _) in encoded.items()}, pooled)


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
    return encode_prompts_pooled(pipe, prompts)[0]


@torch.no_grad()
def encode_prompts_pooled(pipe, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(P, L, D) text states and, on SDXL, (P, D2) pooled embeddings (None otherwise)."""
    if not is_sdxl(pipe):
        return pipe.encode_prompt(prompts, pipe.device, 1, False)[0], None
    states, _, pooled, _ = pipe.encode_prompt(
        prompts, device=pipe.device, num_images_per_prompt=1, do_classifier_free_guidance=False
    )
    if pipe.config.get("force_zeros_for_empty_prompt", False):
        # SDXL base's pipeline guides with zeros, not with the encoded "", when no negative prompt is given: the
        # unconditional prediction its sampling uses, and the targets start from, is the one on zeros
        empty = torch.tensor([p == "" for p in prompts], device=states.device)
        states, pooled = states.masked_fill(empty[:, None, None], 0.0), pooled.masked_fill(empty[:, None], 0.0)
    return states, pooled


def time_ids(pipe) -> torch.Tensor | None:
    """(1, 6) SDXL size conditions of the rollout resolution (the UNet's ``sample_size`` in pixels): original
    size = target size = that resolution, crop (0, 0), which is what the pipeline passes when it generates at
    that size. None for a UNet without them (SD 1.x, 2.x)."""
    if not is_sdxl(pipe):
        return None
    size = pipe.unet.config.sample_size * pipe.vae_scale_factor
    return torch.tensor([[size, size, 0, 0, size, size]], dtype=torch.float32)


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


def unet_inputs(
    text: torch.Tensor, image_embeds: torch.Tensor | None, pooled: torch.Tensor | None = None,
    time_ids: torch.Tensor | None = None, image_on: torch.Tensor | None = None,
) -> dict:  # fmt: skip
    """Keyword arguments of a UNet call for (B, L, D) text states and (B, D) image embeddings (None: text only);
    on SDXL also (B, P) pooled text embeddings and the (1, 6) time ids, repeated for each sample.

    ``image_on`` (B,) bools switch the image branch off for some samples of the call: IP-Adapter's own
    per-sample masks (``ip_adapter_masks``, a 1 x 1 mask each), so text-only and image-conditioned
    conditions share one call. A 0 mask adds exactly nothing, a 1 mask exactly the image tokens' attention
    (diffusers' bicubic resize of a constant 1 x 1 mask is exact), so each sample is what its own call gives.
    """
    inputs, added = {"encoder_hidden_states": text}, {}
    if pooled is not None:
        added.update(text_embeds=pooled, time_ids=time_ids.expand(len(text), -1))
    if image_embeds is not None:
        added["image_embeds"] = [image_embeds[:, None]]
        if image_on is not None:
            mask = image_on.to(image_embeds.device, image_embeds.dtype)[:, None, None, None]
            inputs["cross_attention_kwargs"] = {"ip_adapter_masks": [mask]}
    if added:
        inputs["added_cond_kwargs"] = added
    return inputs
