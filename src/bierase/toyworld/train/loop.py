"""The one optimisation loop every toy-world trainer uses."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from diffusers.optimization import get_scheduler
from tqdm.auto import tqdm


def fit(
    params: Iterable[torch.nn.Parameter],
    steps: int,
    lr: float,
    loss_fn: Callable[[int], torch.Tensor],
    desc: str,
    weight_decay: float = 0.0,
    bf16: bool = True,
    on_step: Callable[[], None] | None = None,
) -> list[float]:
    """Minimise ``loss_fn(step)`` with AdamW and a warm-up + cosine schedule.

    bf16 autocast is used because it is ~1.4x faster on this kind of CPU and
    the toy models train fine in it. Returns the loss of every step.
    """
    params = [p for p in params if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    schedule = get_scheduler("cosine", optimizer, num_warmup_steps=max(1, steps // 20), num_training_steps=steps)
    losses: list[float] = []
    bar = tqdm(range(steps), desc=desc)
    for step in bar:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(step)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        schedule.step()
        if on_step is not None:
            on_step()
        losses.append(loss.item())
        if step % 20 == 0:
            bar.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.4f}")
    return losses
