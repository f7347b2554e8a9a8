"""UCE (Gandikota et al., "Unified Concept Editing in Diffusion Models", 2024): a closed-form baseline.

No training: every cross-attention key and value projection is replaced by the least-squares solution
that maps the erased concepts' text vectors to their guide's outputs and keeps the preserved ones
(``edit.closed_form_edit``; the run is ``method.erase``).
"""

from bierase.methods.uce.config import UCEConfig

Config = UCEConfig

__all__ = ["UCEConfig", "Config"]
