import torch
from diffusers import DDIMScheduler

from bierase.erasing.rollout import rollout, rollout_scheduler


def scheduler():
    base = DDIMScheduler(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012, timestep_spacing="trailing")
    return rollout_scheduler(base.config, 10)


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
