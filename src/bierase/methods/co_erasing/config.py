"""Co-Erasing's options: the shared training and reference-image options, and its text-guided refinement."""

from __future__ import annotations

from dataclasses import dataclass

from bierase.erasing.options import option
from bierase.erasing.reference_config import ReferenceConfig


@dataclass
class CoErasingConfig(ReferenceConfig):
    HELP_COMMAND = "bierase erase --method co-erasing --help"
    text_guided_refinement: bool = option(
        "Co-Erasing's refinement: the image tokens re-read through the concept prompt's text tokens", default=False
    )
