"""A tiny AutoencoderKL: 32x32 RGB <-> 16x16x4 latents."""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL

from bierase.toyworld.pool import Pool
from bierase.toyworld.train.loop import fit


def make_vae(width: int = 32) -> AutoencoderKL:
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        block_out_channels=(width, 2 * width),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=min(16, width),
        sample_size=32,
    )


def train_vae(pool: Pool, steps: int, batch_size: int, seed: int, width: int = 32) -> AutoencoderKL:
    torch.manual_seed(seed)
    vae = make_vae(width)
    generator = torch.Generator().manual_seed(seed)

    def loss_fn(step: int) -> torch.Tensor:
        x = pool.images[pool.draw(batch_size, generator)]
        posterior = vae.encode(x).latent_dist
        recon = vae.decode(posterior.sample(generator)).sample
        # a tiny KL weight keeps the latents near N(0, I) without blurring patterns
        return (recon.float() - x).abs().mean() + 1e-6 * posterior.kl().mean()

    fit(vae.parameters(), steps, 1e-3, loss_fn, "vae")
    vae.eval().requires_grad_(False)
    # Stable Diffusion scales latents to unit variance; measure the factor here.
    with torch.no_grad():
        latents = vae.encode(pool.images[:1024]).latent_dist.mean
    vae.register_to_config(scaling_factor=float(1.0 / latents.std()))
    return vae
