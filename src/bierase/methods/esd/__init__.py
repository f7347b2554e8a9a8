"""ESD (Gandikota et al., 2023): text-only negative guidance, the one-directional baseline.

It is Bi-Erasing's negative branch without reference images: the same
trainer, rollout, parameter sets and outputs, configured, not copied.
"""

from bierase.methods.esd.config import ESDConfig

METHOD = "esd"
Config = ESDConfig

__all__ = ["ESDConfig", "Config", "METHOD"]
