"""Co-Erasing's options: the shared training and reference-image options, and its text-guided refinement."""

from __future__ import annotations

from dataclasses import dataclass

from bierase.erasing.options import option
from bierase.erasing.reference_config import ReferenceConfig
from bierase.errors import UserError


@dataclass
class CoErasingConfig(ReferenceConfig):
    HELP_COMMAND = "bierase erase --method co-erasing --help"
    text_guided_refinement: bool = option(
        "Co-Erasing's refinement: the image tokens re-read through the concept prompt's text tokens (one concept)",
        default=False,
    )

    def validate(self) -> None:
        super().validate()
        if self.text_guided_refinement and len(self.concept) > 1:
            raise UserError(
                "--text_guided_refinement reads the image tokens through one concept's text; erase one concept per "
                "run with it, or drop it to erase several"
            )
