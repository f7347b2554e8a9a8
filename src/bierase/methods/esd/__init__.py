"""ESD (Gandikota et al., 2023): text-only negative guidance, the one-directional baseline.

Its student learns, on the concept's prompt, the teacher's prediction moved against the concept's
guidance direction (``bierase.erasing.negative_guidance``); the shared trainer runs it.
"""

from bierase.methods.esd.config import ESDConfig

Config = ESDConfig

__all__ = ["ESDConfig", "Config"]
