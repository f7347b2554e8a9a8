"""IP-Adapter weights for the toy pipeline, trained the IP-Adapter way.

The base UNet stays frozen; only the image projection and the decoupled
cross-attention's added key/value layers learn. The adapter is attached with
diffusers' own ``load_ip_adapter`` (from a state dict), so the trained modules
are exactly the ones a user's ``load_ip_adapter`` call will rebuild.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import StableDiffusionPipeline
from safetensors.torch import save_file

from bierase.toyworld.pool import Pool
from bierase.toyworld.train.clip import pixel_values, tokenize
from bierase.toyworld.train.loop import fit
from bierase.toyworld.train.unet import encode_latents, noise_scheduler

IMAGE_TOKENS = 4  # what diffusers' ImageProjection expects for a plain IP-Adapter
TEXT_DROPOUT = 0.5  # image-only prompts must work on their own
IMAGE_DROPOUT = 0.1  # and the text branch must survive an empty image prompt


def initial_state_dict(pipe: StableDiffusionPipeline) -> dict[str, dict[str, torch.Tensor]]:
    """A freshly initialised adapter in the nested format ``load_ip_adapter`` accepts."""
    unet = pipe.unet
    cross_dim = unet.config.cross_attention_dim
    embed_dim = pipe.image_encoder.config.projection_dim
    proj = torch.nn.Linear(embed_dim, IMAGE_TOKENS * cross_dim)
    image_proj = {
        "proj.weight": proj.weight.detach().clone(),
        "proj.bias": proj.bias.detach().clone(),
        "norm.weight": torch.ones(cross_dim),
        "norm.bias": torch.zeros(cross_dim),
    }
    ip_layers: dict[str, torch.Tensor] = {}
    modules = dict(unet.named_modules())
    key_id = 1  # diffusers numbers the cross-attention layers 1, 3, 5, ... in processor order
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        # as the IP-Adapter paper does: start the image K/V from the text K/V of the same layer
        attention = modules[name.removesuffix(".processor")]
        ip_layers[f"{key_id}.to_k_ip.weight"] = attention.to_k.weight.detach().clone()
        ip_layers[f"{key_id}.to_v_ip.weight"] = attention.to_v.weight.detach().clone()
        key_id += 2
    return {"image_proj": image_proj, "ip_adapter": ip_layers}


def trained_state_dict(pipe: StableDiffusionPipeline) -> dict[str, torch.Tensor]:
    """The attached adapter's weights, flattened the way IP-Adapter safetensors files are."""
    projection = pipe.unet.encoder_hid_proj.image_projection_layers[0]
    out = {
        "image_proj.proj.weight": projection.image_embeds.weight,
        "image_proj.proj.bias": projection.image_embeds.bias,
        "image_proj.norm.weight": projection.norm.weight,
        "image_proj.norm.bias": projection.norm.bias,
    }
    key_id = 1
    for name, processor in pipe.unet.attn_processors.items():
        if name.endswith("attn1.processor"):
            continue
        out[f"ip_adapter.{key_id}.to_k_ip.weight"] = processor.to_k_ip[0].weight
        out[f"ip_adapter.{key_id}.to_v_ip.weight"] = processor.to_v_ip[0].weight
        key_id += 2
    return {k: v.detach().contiguous().clone() for k, v in out.items()}


def save_ip_adapter(pipe: StableDiffusionPipeline, path: str) -> None:
    save_file(trained_state_dict(pipe), path)


def adapter_parameters(pipe: StableDiffusionPipeline) -> list[torch.nn.Parameter]:
    params = list(pipe.unet.encoder_hid_proj.parameters())
    for name, processor in pipe.unet.attn_processors.items():
        if not name.endswith("attn1.processor"):
            params += list(processor.to_k_ip.parameters()) + list(processor.to_v_ip.parameters())
    return params


def train_ip_adapter(pipe: StableDiffusionPipeline, pool: Pool, steps: int, batch_size: int, seed: int) -> None:
    """Attach a new adapter to ``pipe`` and train it in place."""
    torch.manual_seed(seed)
    pipe.load_ip_adapter(initial_state_dict(pipe), subfolder="", weight_name="", image_encoder_folder=None)
    pipe.unet.requires_grad_(False)
    params = adapter_parameters(pipe)
    for p in params:
        p.requires_grad_(True)
    scheduler = noise_scheduler()
    scale = pipe.vae.config.scaling_factor
    latent_mean, latent_std = encode_latents(pipe.vae, pool.images)
    generator = torch.Generator().manual_seed(seed)

    def loss_fn(step: int) -> torch.Tensor:
        idx = pool.draw(batch_size, generator)
        latents = (
            latent_mean[idx] + latent_std[idx] * torch.randn(latent_mean[idx].shape, generator=generator)
        ) * scale
        keep_text = torch.rand(batch_size, generator=generator) >= TEXT_DROPOUT
        keep_image = torch.rand(batch_size, generator=generator) >= IMAGE_DROPOUT
        captions = [pool.captions[i] if k else "" for i, k in zip(idx.tolist(), keep_text.tolist())]
        with torch.no_grad():
            states = pipe.text_encoder(tokenize(pipe.tokenizer, captions))[0]
            embeds = pipe.image_encoder(pixel_values(pool.images[idx], pipe.feature_extractor)).image_embeds
            # a zero embedding is what the pipelines pass as the "no image" condition
            embeds = embeds * keep_image[:, None]
        noise = torch.randn(latents.shape, generator=generator)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (batch_size,), generator=generator)
        noisy = scheduler.add_noise(latents, noise, t)
        pred = pipe.unet(noisy, t, encoder_hidden_states=states, added_cond_kwargs={"image_embeds": [embeds[:, None]]})
        return F.mse_loss(pred.sample.float(), noise)

    fit(params, steps, 1e-3, loss_fn, "ip-adapter")
    pipe.unet.requires_grad_(False)
