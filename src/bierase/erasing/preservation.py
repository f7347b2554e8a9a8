"""The preservation term: on prompts it must keep, the student matches the frozen teacher.

``L_keep = || eps_theta(z_t, t, c_keep) - eps*(z_t, t, c_keep) ||^2``, text only (the image branch off in
both UNets, as a plain pipeline runs the erased model), with ``c_keep`` drawn per sample from
``--preserve_prompts``. Not in the papers (a retain set as AdvUnlearn's); any trained method can add it
with ``--preserve_prompts`` and ``--lambda_preserve``, and it is off by default.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bierase.erasing.objective import Condition, Losses, Term

KEEP = Condition("preserve")


def preservation_loss(student_keep: torch.Tensor, teacher_keep: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(student_keep.float(), teacher_keep.float())


class PreservationTerm(Term):
    teacher = (KEEP,)
    student = (KEEP,)

    def __init__(self, weight: float) -> None:
        self.weight = weight

    def loss(self, student: torch.Tensor, teacher: torch.Tensor, step: int) -> Losses:
        keep = preservation_loss(student, teacher)
        return Losses(self.weight * keep, {"loss_keep": keep})
