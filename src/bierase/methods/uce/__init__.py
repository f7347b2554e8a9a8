"""UCE (Gandikota et al., "Unified Concept Editing in Diffusion Models", 2024): a closed-form baseline.

No training: every cross-attention key and value projection is replaced by the
least-squares solution that maps the erased concepts' text vectors to their
guide's outputs and keeps the preserved ones (``edit.closed_form_edit``).
"""

from bierase.methods.uce.config import UCEConfig
from bierase.methods.uce.edit import closed_form_edit

METHOD = "uce"
Config = UCEConfig


def erase(config: UCEConfig):
    """Run UCE (imports diffusers only when called); returns the output folder."""
    from bierase.methods.uce.method import erase as run

    return run(config)


__all__ = ["UCEConfig", "Config", "METHOD", "closed_form_edit", "erase"]
