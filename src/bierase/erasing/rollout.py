"""Producing the latent ``z_t`` a training step starts from, by sampling with the model itself.

ESD and its descendants train on latents the model generates for the target
prompt, not on noised data. ``ddim`` is the correct rollout: DDIM from pure
noise at T down to the k-th of N timesteps. ``reference`` reproduces the
reference code, which walks the timesteps in ascending order (0, 20, 40, ...)
from pure noise, so its ``z_t`` is not a sample at noise level ``t``; it is
kept only so the two can be compared on the same benchmark.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from diffusers import DDIMScheduler

# eps(latents, timestep) -> predicted noise, guidance already applied
NoisePredictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def rollout_scheduler(scheduler_config, num_steps: int) -> DDIMScheduler:
    scheduler = DDIMScheduler.from_config(scheduler_config)
    scheduler.set_timesteps(num_steps)
    return scheduler


@torch.inference_mode()
def rollout(
    predict: NoisePredictor,
    scheduler: DDIMScheduler,
    noise: torch.Tensor,
    k: int,
    mode: str = "ddim",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``k`` sampling steps from ``noise``; returns ``(z_t, t)`` with ``t`` the k-th timestep (descending)."""
    timesteps = scheduler.timesteps  # descending, as set_timesteps makes them
    order = timesteps if mode == "ddim" else timesteps.flip(0)
    latents = noise * scheduler.init_noise_sigma
    for t in order[:k]:
        latents = scheduler.step(predict(latents, t), t, latents).prev_sample
    return latents, timesteps[k]
