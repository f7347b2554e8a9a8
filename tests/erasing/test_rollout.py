import pytest
import torch
from diffusers import DDIMScheduler

from bierase.erasing.rollout import ddim_jumps, rollout, rollout_scheduler
from bierase.errors import UserError


def scheduler(**kw):
    base = DDIMScheduler(
        beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, timestep_spacing="trailing", **kw
    )
    return rollout_scheduler(base.config, 10)


def sd_scheduler():
    """Stable Diffusion 1.x's scheduler settings (its x0 is not clipped)."""
    return scheduler(clip_sample=False, set_alpha_to_one=False, steps_offset=1)


def test_ddim_rollout_walks_down_from_t_to_the_kth_step():
    seen = []

    def predict(latents, t):
        seen.append(int(t))
        return torch.zeros_like(latents)

    s = scheduler()
    _, t = rollout(predict, s, torch.randn(1, 4, 2, 2), 3)
    assert seen == [int(x) for x in s.timesteps[:3]] and seen == sorted(seen, reverse=True)
    assert int(t) == int(s.timesteps[3]) and seen[0] == 999


def test_reference_rollout_walks_up_as_the_reference_code_does():
    seen = []

    def predict(latents, t):
        seen.append(int(t))
        return torch.zeros_like(latents)

    rollout(predict, scheduler(), torch.randn(1, 4, 2, 2), 3, mode="reference")
    assert seen == sorted(seen) and seen[0] < 100


def test_zero_steps_is_pure_noise_at_t_max():
    noise = torch.randn(1, 4, 2, 2)
    z, t = rollout(lambda x, t: torch.zeros_like(x), scheduler(), noise, 0)
    assert torch.equal(z, noise) and int(t) == 999


def nonlinear(latents, t):
    return torch.tanh(latents) * (0.5 + t / 2000)


def test_jumps_over_every_timestep_are_ddim():
    """First-order DPM-Solver++ on the schedule's own timesteps is the DDIM rollout, to float tolerance."""
    s, noise = sd_scheduler(), torch.randn(2, 4, 8, 8, generator=torch.Generator().manual_seed(0))
    for k in (1, 5, 9):
        z, _ = rollout(nonlinear, s, noise, k)
        jumped = ddim_jumps(nonlinear, s, noise, [int(t) for t in s.timesteps[: k + 1]])
        assert torch.allclose(jumped, z, atol=1e-4), k


def test_a_capped_rollout_makes_at_most_r_calls_and_ends_at_the_kth_timestep():
    seen = []

    def predict(latents, t):
        seen.append(int(t))
        return nonlinear(latents, t)

    s, noise = sd_scheduler(), torch.randn(1, 4, 2, 2)
    _, t = rollout(predict, s, noise, 9, max_steps=3)
    assert seen == [999, 699, 399] and int(t) == int(s.timesteps[9])
    # within the cap the walk is the schedule's own: every one of its first k timesteps, nothing skipped
    for k, cap in ((3, 3), (2, 5)):
        seen.clear()
        _, t = rollout(predict, s, noise, k, max_steps=cap)
        assert seen == [int(x) for x in s.timesteps[:k]] and int(t) == int(s.timesteps[k]), (k, cap)


def test_a_jump_lands_at_the_noise_level_of_its_timestep():
    """Data at a single point (x0 = 0): every DDIM step is exact, so z_t = sqrt(1 - abar_t) / sqrt(1 - abar_T) * noise."""
    s = sd_scheduler()
    abar = s.alphas_cumprod

    def exact(latents, t):
        return latents / (1 - abar[int(t)]).sqrt()

    noise = torch.randn(3, 4, 4, 4, generator=torch.Generator().manual_seed(1))
    for k, cap in ((9, 2), (7, 3), (4, 1)):
        z, t = rollout(exact, s, noise, k, max_steps=cap)
        expected = noise * ((1 - abar[int(t)]) / (1 - abar[999])).sqrt()
        assert int(t) == int(s.timesteps[k]) and torch.allclose(z, expected, atol=1e-5), (k, cap)


def test_jumps_refuse_a_scheduler_that_clips_x0():
    """DDIM with clip_sample clips each step's x0; a jump cannot reproduce that, so it says so."""
    with pytest.raises(UserError, match="clip_sample"):
        rollout(nonlinear, scheduler(clip_sample=True), torch.randn(1, 4, 2, 2), 9, max_steps=3)
