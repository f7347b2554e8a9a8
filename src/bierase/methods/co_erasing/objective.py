"""Co-Erasing's objective: ESD's negative guidance on ``[c ; I-]``, the concept's text with its images,
optionally through the text-guided refinement of the image tokens (in both UNets)."""

from __future__ import annotations

from bierase.erasing.negative_guidance import NegativeGuidance
from bierase.methods.co_erasing.config import CoErasingConfig
from bierase.methods.co_erasing.refinement import attach_refinement


class CoErasingTerm(NegativeGuidance):
    def __init__(self, eta: float, refine: bool) -> None:
        super().__init__(eta, image="negative")
        self.refine = refine

    def prepare(self, teacher_unet, student_unet, texts: dict) -> None:
        if self.refine:  # both UNets read the refined image tokens
            for unet in (teacher_unet, student_unet):
                attach_refinement(unet, texts["concept"])


def objective(config: CoErasingConfig) -> list[NegativeGuidance]:
    return [CoErasingTerm(config.eta_neg, config.text_guided_refinement)]
