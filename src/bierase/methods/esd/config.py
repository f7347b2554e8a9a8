"""ESD's options: Bi-Erasing's, with the image branch off and the positive branch at zero."""

from __future__ import annotations

from dataclasses import dataclass, field

from bierase.errors import UserError
from bierase.methods.bi_erasing.config import BiErasingConfig


@dataclass
class ESDConfig(BiErasingConfig):
    image_conditioning: bool = field(default=False, metadata={"help": "ESD is text only"})
    lambda_neg: float = field(default=1.0, metadata={"help": "weight of the negative branch"})
    lambda_pos: float = field(default=0.0, metadata={"help": "ESD has no positive branch"})
    mask_source: str = field(default="none", metadata={"help": "unused: ESD has no reference images"})
    train_method: str = field(default="xattn", metadata={"help": "ESD-x (xattn), ESD-u (noxattn) or full"})

    def validate(self) -> None:
        super().validate()
        if self.image_conditioning or self.lambda_pos:
            raise UserError("--method esd is text-only negative guidance; use --method bi-erasing for image branches")
