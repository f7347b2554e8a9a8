"""Training the judge on renders, with the blur and noise a generator adds."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bierase.toyworld.judge import Judge
from bierase.toyworld.pool import Pool
from bierase.toyworld.train.loop import fit


def degrade(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random blur and noise so that the judge reads generated images as well as renders."""
    n = len(x)
    blur = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    mix = torch.rand(n, 1, 1, 1, generator=generator) * 0.7
    x = (1 - mix) * x + mix * blur
    x = x + torch.randn(x.shape, generator=generator) * torch.rand(n, 1, 1, 1, generator=generator) * 0.15
    return x.clamp(-1, 1)


def train_judge(pool: Pool, steps: int, batch_size: int, seed: int) -> Judge:
    torch.manual_seed(seed)
    judge = Judge()
    generator = torch.Generator().manual_seed(seed)

    def loss_fn(step: int) -> torch.Tensor:
        idx = pool.draw(batch_size, generator)
        logits = judge(degrade(pool.images[idx], generator))
        return sum(F.cross_entropy(logits[a].float(), pool.labels[a][idx]) for a in logits)

    fit(judge.parameters(), steps, 2e-3, loss_fn, "judge", weight_decay=0.01, bf16=False)
    return judge.eval().requires_grad_(False)
