"""Producing the latent ``z_t`` a training step starts from, by sampling with the model itself.

ESD and its descendants train on latents the model generates for the target
prompt, not on noised data. ``ddim`` is the correct rollout: DDIM from pure
noise at T down to the k-th of N timesteps. ``reference`` reproduces the
reference code, which walks the timesteps in ascending order (0, 20, 40, ...)
from pure noise, so its ``z_t`` is not a sample at noise level ``t``; it is
kept only so the two can be compared on the same benchmark.

A rollout to the k-th step costs k UNet calls, most of an iteration. With
``max_steps`` it takes at most that many: DDIM jumps over evenly spaced
timesteps of the same schedule, still from T and still ending exactly at the
k-th timestep. A DDIM step between any two timesteps is first-order
DPM-Solver++, so the jumps are diffusers' ``DPMSolverMultistepScheduler`` at
order 1 on those timesteps; on the full schedule it equals DDIM to float
tolerance (tested).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler

from bierase.errors import UserError

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
    max_steps: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sample from ``noise`` down to the k-th timestep (descending); returns ``(z_t, t)``.

    ``max_steps`` > 0 caps the UNet calls of a ``ddim`` rollout (k steps otherwise).
    """
    timesteps = scheduler.timesteps  # descending, as set_timesteps makes them
    if mode == "ddim" and 0 < max_steps < k:
        return ddim_jumps(predict, scheduler, noise, jump_timesteps(timesteps, k, max_steps)), timesteps[k]
    order = timesteps if mode == "ddim" else timesteps.flip(0)
    latents = noise * scheduler.init_noise_sigma
    for t in order[:k]:
        latents = scheduler.step(predict(latents, t), t, latents).prev_sample
    return latents, timesteps[k]


def jump_timesteps(timesteps: torch.Tensor, k: int, steps: int) -> list[int]:
    """``steps + 1`` timesteps of the schedule, evenly spaced by index from the first to the k-th."""
    index = torch.linspace(0, k, steps + 1).round().long()
    return [int(timesteps[i]) for i in index]


def check_jumps(scheduler: DDIMScheduler) -> None:
    if scheduler.config.get("clip_sample"):
        raise UserError(
            "--rollout_steps: this model's scheduler clips x0 at every DDIM step (clip_sample), which a jump "
            "cannot reproduce; drop --rollout_steps"
        )


@torch.inference_mode()
def ddim_jumps(predict: NoisePredictor, scheduler: DDIMScheduler, noise: torch.Tensor, timesteps: list[int]):
    """DDIM from pure noise at the first of ``timesteps`` through each of them to the last (one call per gap)."""
    check_jumps(scheduler)
    solver = DPMSolverMultistepScheduler.from_config(scheduler.config, algorithm_type="dpmsolver++", solver_order=1)
    solver.set_timesteps(timesteps=timesteps, device=noise.device)
    latents = noise * solver.init_noise_sigma
    for t in solver.timesteps[:-1]:  # the last timestep is where the walk ends, not a step
        latents = solver.step(predict(latents, t), t, latents).prev_sample
    return latents
