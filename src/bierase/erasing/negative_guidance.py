"""ESD's objective, which the methods with only a negative branch share (ESD, Co-Erasing).

The student on ``[c ; I]`` is regressed onto the teacher's prediction moved against the concept:
``L = || eps_theta(z_t,t,[c;I]) - (eps*(z_t,t,[0;I]) - eta (eps*(z_t,t,[c;I]) - eps*(z_t,t,[0;I]))) ||^2``.
ESD runs it text only (no ``I``); Co-Erasing with the negative reference images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bierase.erasing.objective import Condition, Losses, Term
from bierase.erasing.targets import negative_target


class NegativeGuidance(Term):
    def __init__(self, eta: float, image: str | None = None) -> None:
        self.eta = eta
        self.teacher = (Condition("empty", image), Condition("concept", image))
        self.student = (Condition("concept", image),)

    def loss(self, student: torch.Tensor, teacher: torch.Tensor, step: int) -> Losses:
        uncond, concept = teacher.chunk(2)
        loss = F.mse_loss(student.float(), negative_target(uncond, concept, self.eta).float())
        return Losses(loss, {"loss_neg": loss})
