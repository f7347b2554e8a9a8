"""What a trained method is to the trainer: an objective made of terms.

A term names the conditions its frozen teacher ``eps*`` and its student ``eps_theta`` are evaluated on,
all at the same ``z_t`` and ``t``, and turns their predictions into a loss. The trainer knows nothing
else of a method: it encodes the texts and draws the reference images the conditions name, runs every
term's teacher conditions as one batched call and every term's student conditions as another, gives each
term its own rows back, sums the terms' losses and steps. Each method's package builds its terms from its config (``objective(config)``).

A condition is ``[text ; image]``: a text the trainer encodes (``empty`` is ``""``, ``concept`` the
concept to erase, ``positive`` the safe alternative, ``preserve`` one of the preservation prompts,
drawn per sample) and, optionally, a reference set whose drawn images enter through IP-Adapter's image
branch. A text-only condition is answered with the image branch off, as a plain pipeline runs (per
sample, through IP-Adapter's masks, when it shares a call with image-conditioned ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch

TEXTS = ("empty", "concept", "positive", "preserve")
IMAGE_SETS = ("negative", "positive")


@dataclass(frozen=True)
class Condition:
    text: str
    image: str | None = None

    def __post_init__(self) -> None:
        if self.text not in TEXTS or self.image not in (*IMAGE_SETS, None):
            raise ValueError(f"unknown condition [{self.text}; {self.image}]; texts {TEXTS}, images {IMAGE_SETS}")


class Losses(NamedTuple):
    total: torch.Tensor
    parts: dict[str, torch.Tensor]  # the named pieces recorded in the run's history ("loss_neg", ...)


class Term:
    """One part of an objective. Subclasses set ``teacher`` and ``student`` and implement ``loss``."""

    teacher: tuple[Condition, ...] = ()
    student: tuple[Condition, ...] = ()

    def loss(self, student: torch.Tensor, teacher: torch.Tensor, step: int) -> Losses:
        """``student`` and ``teacher`` stack the predictions of their conditions along dim 0, in order."""
        raise NotImplementedError

    def prepare(self, teacher_unet: torch.nn.Module, student_unet: torch.nn.Module, texts: dict) -> None:
        """Install what the term needs on the UNets before training (hooks); nothing by default."""


def check_terms(terms: list[Term]) -> None:
    for term in terms:
        for conditions in (term.teacher, term.student):
            if not conditions:
                raise ValueError(f"{type(term).__name__}: the teacher and the student each need conditions")


def image_sets_of(terms: list[Term]) -> list[str]:
    """The reference sets the terms' conditions name, in order of first appearance (the draw order)."""
    names = [c.image for term in terms for c in (*term.teacher, *term.student) if c.image is not None]
    return list(dict.fromkeys(names))


def texts_of(terms: list[Term]) -> list[str]:
    names = [c.text for term in terms for c in (*term.teacher, *term.student)]
    return list(dict.fromkeys(names))
