"""bierase: erase concepts from Stable Diffusion pipelines (diffusers layout) with Bi-Erasing and its baselines.

The whole job from Python::

    import bierase

    config = bierase.BiErasingConfig(
        pretrained_model_name_or_path="runwayml/stable-diffusion-v1-5", concept="nudity",
        positive_concept="clothed", output_dir="erased-nudity",
    )
    bierase.erase(config)                       # writes erased-nudity/unet/, config.yaml, bierase.json
    pipe = bierase.load_erased("erased-nudity")  # a StableDiffusionPipeline with the erased UNet (or LoRA)

``erase`` picks the method from the config's class (``ESDConfig``, ``CoErasingConfig``, ``UCEConfig``).
Importing bierase is light: torch and diffusers load when a run starts.
"""

from __future__ import annotations

from pathlib import Path

from bierase.methods.bi_erasing.config import BiErasingConfig
from bierase.methods.co_erasing.config import CoErasingConfig
from bierase.methods.esd.config import ESDConfig
from bierase.methods.uce.config import UCEConfig

__version__ = "0.2.0"


def erase(config) -> Path:
    """Run the method whose config ``config`` is; returns the output folder."""
    from bierase.methods.registry import method_of, run_method

    config.require_run_fields()
    return run_method(method_of(config), config)


def load_erased(output_dir: str | Path, pretrained_model_name_or_path: str | None = None, **kwargs):
    """The base pipeline with the erased UNet or LoRA of ``output_dir`` (``from_pretrained`` kwargs pass through)."""
    from bierase.erasing.outputs import load_erased as load

    return load(output_dir, pretrained_model_name_or_path, **kwargs)


__all__ = ["BiErasingConfig", "CoErasingConfig", "ESDConfig", "UCEConfig", "__version__", "erase", "load_erased"]
