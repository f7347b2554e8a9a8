"""ESD's objective: negative guidance, text only (two teacher conditions, one student condition)."""

from __future__ import annotations

from bierase.erasing.negative_guidance import NegativeGuidance
from bierase.methods.esd.config import ESDConfig


def objective(config: ESDConfig) -> list[NegativeGuidance]:
    return [NegativeGuidance(config.eta_neg)]
