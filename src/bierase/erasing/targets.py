"""The guidance targets the trained methods regress their student onto, as pure functions.

ESD's negative target moves the unconditional prediction *against* the concept's guidance direction;
Bi-Erasing's positive target moves it *along* the safe alternative's (method note, section 3).
"""

from __future__ import annotations

import torch


def negative_target(eps_uncond: torch.Tensor, eps_concept: torch.Tensor, eta: float) -> torch.Tensor:
    """``eps(0) - eta * (eps(c) - eps(0))``: push away from the concept."""
    return eps_uncond - eta * (eps_concept - eps_uncond)


def positive_target(eps_uncond: torch.Tensor, eps_safe: torch.Tensor, eta: float) -> torch.Tensor:
    """``eps(0) + eta * (eps(c+) - eps(0))``: guide to the safe alternative (eta = 1: the teacher's own)."""
    return eps_uncond + eta * (eps_safe - eps_uncond)
