"""The text-to-image UNet, trained the Stable Diffusion way on frozen VAE latents
and frozen CLIP text states, with an EMA copy as the released weights."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from diffusers import AutoencoderKL, DDPMScheduler, UNet2DConditionModel
from diffusers.training_utils import EMAModel, compute_snr
from transformers import CLIPTextModel, CLIPTokenizer

from bierase.toyworld.pool import Pool
from bierase.toyworld.train.clip import tokenize
from bierase.toyworld.train.loop import fit

CAPTION_DROPOUT = 0.1  # empty captions teach the unconditional branch for guidance
SNR_GAMMA = 5.0  # Min-SNR weighting (Hang et al. 2023), the value diffusers' training scripts suggest


def make_unet(cross_attention_dim: int, width: int = 48) -> UNet2DConditionModel:
    return UNet2DConditionModel(
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
        block_out_channels=(width, 2 * width, 2 * width),
        layers_per_block=1,
        cross_attention_dim=cross_attention_dim,
        attention_head_dim=2,  # in diffusers this is the number of heads
        norm_num_groups=16,
    )


def noise_scheduler() -> DDPMScheduler:
    """Stable Diffusion v1's training schedule."""
    return DDPMScheduler(
        num_train_timesteps=1000, beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False
    )


@torch.no_grad()
def encode_latents(vae: AutoencoderKL, images: torch.Tensor, chunk: int = 512) -> tuple[torch.Tensor, torch.Tensor]:
    """Posterior mean and std of every image, so training draws latents without the encoder."""
    means, stds = [], []
    for start in range(0, len(images), chunk):
        dist = vae.encode(images[start : start + chunk]).latent_dist
        means.append(dist.mean)
        stds.append(dist.std)
    return torch.cat(means), torch.cat(stds)


def min_snr_mse(pred: torch.Tensor, noise: torch.Tensor, scheduler: DDPMScheduler, t: torch.Tensor) -> torch.Tensor:
    """Epsilon MSE with Min-SNR-gamma weights.

    In terms of the clean image, plain epsilon MSE weights each timestep by its SNR, so the nearly
    clean timesteps (fine detail) dominate the gradient; capping that weight at gamma gives the noisy
    timesteps, where an object's shape is decided, their share.
    """
    snr = compute_snr(scheduler, t)
    weights = snr.clamp(max=SNR_GAMMA) / snr
    per_sample = F.mse_loss(pred, noise, reduction="none").mean(dim=(1, 2, 3))
    return (per_sample * weights).mean()


def train_unet(
    pool: Pool,
    vae: AutoencoderKL,
    text_encoder: CLIPTextModel,
    tokenizer: CLIPTokenizer,
    steps: int,
    batch_size: int,
    seed: int,
    width: int = 48,
    lr: float = 1e-3,
) -> UNet2DConditionModel:
    torch.manual_seed(seed)
    unet = make_unet(text_encoder.config.hidden_size, width)
    ema = EMAModel(unet.parameters(), decay=0.999, use_ema_warmup=True)
    scheduler = noise_scheduler()
    scale = vae.config.scaling_factor
    latent_mean, latent_std = encode_latents(vae, pool.images)
    generator = torch.Generator().manual_seed(seed)

    def loss_fn(step: int) -> torch.Tensor:
        idx = pool.draw(batch_size, generator)
        latents = (
            latent_mean[idx] + latent_std[idx] * torch.randn(latent_mean[idx].shape, generator=generator)
        ) * scale
        captions = [pool.captions[i] if torch.rand(1, generator=generator) >= CAPTION_DROPOUT else "" for i in idx]
        with torch.no_grad():
            states = text_encoder(tokenize(tokenizer, captions))[0]
        noise = torch.randn(latents.shape, generator=generator)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (batch_size,), generator=generator)
        noisy = scheduler.add_noise(latents, noise, t)
        pred = unet(noisy, t, encoder_hidden_states=states).sample
        return min_snr_mse(pred.float(), noise, scheduler, t)

    fit(unet.parameters(), steps, lr, loss_fn, "unet", on_step=lambda: ema.step(unet.parameters()))
    ema.copy_to(unet.parameters())
    return unet.eval().requires_grad_(False)
