"""Bi-Erasing's objective (method note, section 3): one term with both branches.

The teacher runs on ``[0; I-]``, ``[c_neg; I-]``, ``[0; I+]``, ``[c_pos; I+]`` in one call; the student
on ``[c_neg; I-]`` and ``[c_pos; I+]`` (or ``[c_neg; I+]`` with ``--positive_text concept``) in another:

    L = lambda_neg || eps_theta([c_neg; I-]) - (eps*([0; I-]) - eta_neg (eps*([c_neg; I-]) - eps*([0; I-]))) ||^2
      + lambda_pos || eps_theta([c_pos; I+]) - (eps*([0; I+]) + eta_pos (eps*([c_pos; I+]) - eps*([0; I+]))) ||^2

A branch with weight 0 is left out of the calls (no wasted UNet calls); text only (``--no_image_conditioning``)
drops the images from every condition.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from bierase.erasing.objective import Condition, Losses, Term
from bierase.erasing.targets import negative_target, positive_target
from bierase.methods.bi_erasing.config import BiErasingConfig


def branch_weights(step: int, max_steps: int, lambda_neg: float, lambda_pos: float, two_stage: float | None):
    """The two-stage schedule: the first ``two_stage`` fraction of steps positive-only, then negative-only.

    ``None`` (the default) trains both branches every step with their lambdas.
    """
    if two_stage is None:
        return lambda_neg, lambda_pos
    return (0.0, lambda_pos) if step < round(two_stage * max_steps) else (lambda_neg, 0.0)


def negative_loss(student: torch.Tensor, uncond: torch.Tensor, concept: torch.Tensor, eta: float) -> torch.Tensor:
    return F.mse_loss(student.float(), negative_target(uncond, concept, eta).float())


def positive_loss(student: torch.Tensor, uncond: torch.Tensor, safe: torch.Tensor, eta: float) -> torch.Tensor:
    return F.mse_loss(student.float(), positive_target(uncond, safe, eta).float())


class BiErasingTerm(Term):
    def __init__(self, config: BiErasingConfig) -> None:
        self.config = config
        self.negative, self.positive = config.lambda_neg > 0, config.lambda_pos > 0
        neg, pos = ("negative", "positive") if config.image_conditioning else (None, None)
        student_pos_text = "concept" if config.positive_text == "concept" else "positive"
        self.teacher = (
            *((Condition("empty", neg), Condition("concept", neg)) if self.negative else ()),
            *((Condition("empty", pos), Condition("positive", pos)) if self.positive else ()),
        )
        self.student = (
            *((Condition("concept", neg),) if self.negative else ()),
            *((Condition(student_pos_text, pos),) if self.positive else ()),
        )

    def loss(self, student: torch.Tensor, teacher: torch.Tensor, step: int) -> Losses:
        cfg = self.config
        w_neg, w_pos = branch_weights(step, cfg.max_train_steps, cfg.lambda_neg, cfg.lambda_pos, cfg.two_stage)
        students, teachers = list(student.chunk(len(self.student))), list(teacher.chunk(len(self.teacher)))
        total, parts = None, {}
        if self.negative:
            parts["loss_neg"] = negative_loss(students.pop(0), teachers.pop(0), teachers.pop(0), cfg.eta_neg)
            total = w_neg * parts["loss_neg"]
        if self.positive:
            parts["loss_pos"] = positive_loss(students.pop(0), teachers.pop(0), teachers.pop(0), cfg.eta_pos)
            total = w_pos * parts["loss_pos"] if total is None else total + w_pos * parts["loss_pos"]
        return Losses(total, parts)


def objective(config: BiErasingConfig) -> list[Term]:
    return [BiErasingTerm(config)]
