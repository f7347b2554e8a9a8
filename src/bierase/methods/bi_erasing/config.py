"""Bi-Erasing's options: the shared training and reference-image options, and its two branches.

The defaults are the method note's (the paper's form): ``lambda_neg`` 0.6, ``lambda_pos`` 0.4,
``eta`` 1, the student's positive branch on ``[c_pos ; I+]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from bierase.erasing.options import option
from bierase.erasing.reference_config import ImageSetSpec, ReferenceConfig
from bierase.errors import UserError

POSITIVE_TEXTS = ("positive", "concept")


@dataclass
class BiErasingConfig(ReferenceConfig):
    HELP_COMMAND = "bierase erase --method bi-erasing --help"
    positive_concept: list[str] = option(
        "the safe alternative(s) to guide to (c_pos), e.g. 'clothed': one for every concept, or one per concept",
        default_factory=list, one_or_many=True,
    )  # fmt: skip
    image_conditioning: bool = option(
        "condition both branches on reference images through IP-Adapter (off: text only)", default=True
    )
    positive_images: list[str] = option(
        "folders of safe-alternative images, one per positive concept; generated when none", default_factory=list,
        one_or_many=True,
    )  # fmt: skip
    positive_queries: list[str] = option("segmenter queries for the positive set (default: the positive concept)",
                                         default_factory=list)  # fmt: skip
    lambda_neg: float = option("weight of the negative (suppress) branch", default=0.6, low=0)
    lambda_pos: float = option("weight of the positive (guide) branch", default=0.4, low=0)
    eta_pos: float = option("guidance strength of the positive target", default=1.0, low=0)
    positive_text: str = option(
        "text of the student's positive branch: 'positive' ([c_pos; I+], the method note) or 'concept' "
        "([c_neg; I+]: the concept's own prompt is steered to the safe alternative)",
        default="positive", choices=POSITIVE_TEXTS,
    )  # fmt: skip
    two_stage: float | None = option(
        "fraction of steps positive-only before negative-only; unset: both every step", default=None, low=0, high=1
    )

    def validate(self) -> None:
        super().validate()
        if self.lambda_neg + self.lambda_pos == 0:
            raise UserError("--lambda_neg and --lambda_pos are both 0, so nothing would train; give one a weight")
        self.check_items("positive_concept", self.positive_concept, unique=False)  # concepts may share a guide
        n, p = len(self.concept), len(self.positive_concept)
        if p:
            self.check_count("positive_concept", {1: "one for all", n: "one per concept"}, f"{n} concept(s)")
        self.check_count("positive_images", {0: "none", p: "one folder per positive concept"},
                         f"{p} positive concept(s)")  # fmt: skip

    def uses_images(self) -> bool:
        return self.image_conditioning

    def image_sets(self) -> list[ImageSetSpec]:
        if not self.image_conditioning:
            return []
        positive = ImageSetSpec("positive", tuple(self.positive_concept), tuple(self.positive_images),
                                tuple(self.positive_queries))  # fmt: skip
        return [*super().image_sets(), positive]

    def prompts(self) -> dict[str, list[str]]:
        return {**super().prompts(), "positive": list(self.positive_concept)}

    def required(self) -> list[str]:
        return [*super().required(), *(["positive_concept"] if self.lambda_pos else [])]

    def frozen_on_resume(self) -> tuple[str, ...]:
        # the two-stage schedule switches branches at a fraction of max_train_steps
        return (*super().frozen_on_resume(), *(["max_train_steps"] if self.two_stage is not None else []))
