"""The bidirectional objective, as pure functions (method note, section 3).

A teacher ``eps*`` is evaluated on four conditions sharing ``z_t`` and ``t``:
``[0; I-]``, ``[c_neg; I-]``, ``[0; I+]``, ``[c_pos; I+]``. The student is
evaluated on ``[c_neg; I-]`` and ``[c_pos; I+]``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F


class Losses(NamedTuple):
    total: torch.Tensor
    negative: torch.Tensor
    positive: torch.Tensor
    preservation: torch.Tensor | None = None  # only with preservation prompts


def negative_target(eps_uncond: torch.Tensor, eps_concept: torch.Tensor, eta: float) -> torch.Tensor:
    """Push away: the unconditional prediction moved *against* the concept's guidance direction."""
    return eps_uncond - eta * (eps_concept - eps_uncond)


def positive_target(eps_uncond: torch.Tensor, eps_safe: torch.Tensor, eta: float) -> torch.Tensor:
    """Guide to the safe alternative: moved *along* its guidance direction (eta = 1: the teacher's own)."""
    return eps_uncond + eta * (eps_safe - eps_uncond)


def bi_erasing_loss(
    student_neg: torch.Tensor,
    student_pos: torch.Tensor,
    teacher: torch.Tensor,
    lambda_neg: float,
    lambda_pos: float,
    eta_neg: float,
    eta_pos: float,
) -> Losses:
    """``teacher`` stacks the four teacher predictions along dim 0 in the order above."""
    t_neg_uncond, t_neg, t_pos_uncond, t_pos = teacher.chunk(4)
    loss_neg = F.mse_loss(student_neg.float(), negative_target(t_neg_uncond, t_neg, eta_neg).float())
    loss_pos = F.mse_loss(student_pos.float(), positive_target(t_pos_uncond, t_pos, eta_pos).float())
    return Losses(lambda_neg * loss_neg + lambda_pos * loss_pos, loss_neg, loss_pos)


def with_preservation(losses: Losses, student_keep: torch.Tensor, teacher_keep: torch.Tensor, weight: float) -> Losses:
    """Add the preservation term (not in the paper): on prompts that must not change, the student
    matches the frozen teacher, ``L = ... + weight * || eps_theta(z_t,t,c_keep) - eps*(z_t,t,c_keep) ||^2``.
    """
    keep = F.mse_loss(student_keep.float(), teacher_keep.float())
    return losses._replace(total=losses.total + weight * keep, preservation=keep)


def branch_weights(step: int, max_steps: int, lambda_neg: float, lambda_pos: float, two_stage: float | None):
    """The two-stage schedule: the first ``two_stage`` fraction of steps positive-only, then negative-only.

    ``None`` (the default) trains both branches every step with their lambdas.
    """
    if two_stage is None:
        return lambda_neg, lambda_pos
    return (0.0, lambda_pos) if step < round(two_stage * max_steps) else (lambda_neg, 0.0)
