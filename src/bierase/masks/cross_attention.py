"""Concept masks from the diffusion UNet's own cross-attention: no extra model needed.

Each reference image is encoded, noised to one fixed timestep and denoised
once with the concept as the prompt. Where the concept's tokens draw the
cross-attention is where the UNet "sees" the concept. The maps of every
cross-attention layer are upsampled to the image, averaged, normalised to
[0, 1] per image and cleaned like segmenter probabilities.

On SDXL the prompt's text states are both encoders' (concatenated per
position, so the concept's columns are the same in both), and the UNet also
gets the concept's pooled embedding and the time ids of the UNet's
``sample_size``, the resolution the images are encoded at.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from bierase.erasing.conditions import encode_prompts_pooled, time_ids, unet_inputs
from bierase.errors import UserError
from bierase.masks.cleanup import CleanupConfig, clean_masks


def concept_token_columns(tokenizer, concept: str) -> list[int]:
    """Positions of the concept's tokens in the padded prompt: everything between BOS and the first EOS."""
    ids = tokenizer(concept, padding="max_length", max_length=tokenizer.model_max_length, truncation=True).input_ids
    eos = tokenizer.eos_token_id
    end = ids.index(eos, 1) if eos in ids[1:] else len(ids)
    columns = list(range(1, end))
    if not columns:
        raise UserError(f"concept {concept!r} has no tokens; pass the concept's name")
    return columns


class AttentionRecorder:
    """Wraps one cross-attention layer's processor and records the concept tokens' attention maps.

    The wrapped processor still computes the layer's output, so the forward
    pass is unchanged whatever processor (SDPA, xformers, ...) was installed;
    the attention probabilities are recomputed on the side with the layer's
    own ``get_attention_scores``.
    """

    def __init__(self, inner, columns: list[int], maps: list[torch.Tensor]):
        self.inner = inner
        self.columns = columns
        self.maps = maps  # shared by every layer: (B, tokens-of-image) maps, one per call

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None, temb=None, **kwargs):
        self.maps.append(self._concept_attention(attn, hidden_states, encoder_hidden_states, attention_mask))
        return self.inner(
            attn, hidden_states, encoder_hidden_states=encoder_hidden_states, attention_mask=attention_mask, temb=temb,
            **kwargs,
        )  # fmt: skip

    def _concept_attention(self, attn, hidden_states, encoder_hidden_states, attention_mask) -> torch.Tensor:
        if hidden_states.ndim == 4:  # (B, C, H, W) inputs are flattened as in diffusers' AttnProcessor
            hidden_states = hidden_states.flatten(2).transpose(1, 2)
        if attn.group_norm is not None:
            hidden_states = attn.group_norm(hidden_states.transpose(1, 2)).transpose(1, 2)
        if attn.norm_cross:
            encoder_hidden_states = attn.norm_encoder_hidden_states(encoder_hidden_states)
        batch, tokens = encoder_hidden_states.shape[:2]
        mask = attn.prepare_attention_mask(attention_mask, tokens, batch)
        query = attn.head_to_batch_dim(attn.to_q(hidden_states))
        key = attn.head_to_batch_dim(attn.to_k(encoder_hidden_states))
        probs = attn.get_attention_scores(query, key, mask)  # (B * heads, pixels, tokens)
        probs = probs.view(batch, attn.heads, *probs.shape[1:]).mean(dim=1)
        return probs[..., self.columns].mean(dim=-1).float()  # (B, pixels)


@dataclass
class CrossAttentionMasker:
    pipe: object  # a diffusers StableDiffusionPipeline (or any with unet, vae, scheduler, encode_prompt)
    concept: str
    timestep: int = 400  # enough noise that the prompt matters, little enough that the image still shows
    cleanup: CleanupConfig = field(default_factory=CleanupConfig)
    seed: int = 0
    batch_size: int = 8

    def __post_init__(self) -> None:
        steps = self.pipe.scheduler.config.num_train_timesteps
        if not 0 <= self.timestep < steps:
            raise UserError(f"mask timestep {self.timestep} is out of range; it must be in [0, {steps})")
        if self.batch_size < 1:
            raise UserError(f"mask batch size {self.batch_size} is out of range; it must be >= 1")
        if getattr(self.pipe.unet, "encoder_hid_proj", None) is not None:
            raise UserError("cross-attention masks need the plain UNet; make them before loading the IP-Adapter")

    def __call__(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Soft masks, float32 in [0, 1], each at its image's own size."""
        return clean_masks(self.attention_maps(images), self.cleanup, "cross-attention")

    def attention_maps(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The concept's cross-attention per image, averaged over layers and normalised to [0, 1]."""
        unet = self.pipe.unet
        columns = concept_token_columns(self.pipe.tokenizer, self.concept)
        maps: list[torch.Tensor] = []
        original = dict(unet.attn_processors)
        recorders = {
            name: AttentionRecorder(processor, columns, maps) if name.endswith("attn2.processor") else processor
            for name, processor in original.items()
        }
        out: list[np.ndarray] = []
        try:
            unet.set_attn_processor(recorders)
            for start in range(0, len(images), self.batch_size):
                chunk = list(images[start : start + self.batch_size])
                maps.clear()
                latent_shape = self._denoise_once(chunk)
                out.extend(_average_maps(maps, chunk, latent_shape))
        finally:
            unet.set_attn_processor(dict(original))  # diffusers empties the dict it is given
        return out

    @torch.no_grad()
    def _denoise_once(self, images: list[np.ndarray]) -> tuple[int, int]:
        pipe = self.pipe
        device, vae = pipe.unet.device, pipe.vae
        sample = pipe.unet.config.sample_size
        height, width = (sample, sample) if isinstance(sample, int) else sample
        size = (height * pipe.vae_scale_factor, width * pipe.vae_scale_factor)
        pixels = torch.stack([_to_tensor(image, size) for image in images]).to(device, vae.dtype)
        latents = vae.encode(pixels).latent_dist.mean * vae.config.scaling_factor
        # one seeded draw per image, so an image's mask does not depend on its batch
        noise = torch.stack(
            [torch.randn(latents.shape[1:], generator=torch.Generator().manual_seed(self.seed)) for _ in images]
        ).to(device, latents.dtype)
        t = torch.full((len(images),), self.timestep, dtype=torch.long, device=device)
        noisy = forward_process(pipe.scheduler).add_noise(latents, noise, t)
        embeds, pooled = encode_prompts_pooled(pipe, [self.concept])
        n, dtype, ids = len(images), pipe.unet.dtype, time_ids(pipe)
        if pooled is not None:  # SDXL: the concept's pooled embedding and the time ids of the encoding size
            pooled, ids = pooled.expand(n, -1).to(dtype), ids.to(device)
        pipe.unet(noisy, t, **unet_inputs(embeds.expand(n, -1, -1).to(dtype), None, pooled, ids))
        return latents.shape[-2], latents.shape[-1]


def forward_process(scheduler):
    """The training noise schedule of ``scheduler``'s config, as a DDPM scheduler.

    Whatever the pipeline samples with, its UNet was trained on DDPM-noised
    latents at timestep t; sigma-based schedulers (Euler, DPM-Solver) also
    refuse ``add_noise`` before ``set_timesteps``, which DDPM does not need.
    """
    from diffusers import DDPMScheduler

    return DDPMScheduler.from_config(scheduler.config)


def _to_tensor(image: np.ndarray, size: tuple[int, int]) -> torch.Tensor:
    """uint8 HxWx3 -> float 3 x height x width in [-1, 1], as the VAE takes it."""
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float() / 127.5 - 1
    if tuple(x.shape[-2:]) != size:
        x = F.interpolate(x[None], size=size, mode="bilinear", antialias=True, align_corners=False)[0]
    return x


def _average_maps(
    maps: list[torch.Tensor], images: list[np.ndarray], latent_shape: tuple[int, int]
) -> list[np.ndarray]:
    """Each layer's (B, pixels) map on its grid, upsampled to every image's size, averaged, min-max normalised."""
    if not maps:
        raise UserError("the UNet has no cross-attention layers (attn2); use another mask source")
    height, width = latent_shape
    out = []
    for i, image in enumerate(images):
        total = torch.zeros(image.shape[:2])
        for layer in maps:
            pixels = layer.shape[1]
            h = round(math.sqrt(pixels * height / width))  # the layer's grid keeps the latent's aspect ratio
            grid = layer[i].reshape(1, 1, h, pixels // h).cpu()
            total += F.interpolate(grid, size=image.shape[:2], mode="bilinear", align_corners=False)[0, 0]
        total /= len(maps)
        low, high = total.min(), total.max()
        out.append(((total - low) / (high - low) if high > low else torch.zeros_like(total)).numpy())
    return out
