"""Co-Erasing's options: Bi-Erasing's with the positive branch at zero."""

from __future__ import annotations

from dataclasses import dataclass, field

from bierase.errors import UserError
from bierase.methods.bi_erasing.config import BiErasingConfig


@dataclass
class CoErasingConfig(BiErasingConfig):
    lambda_neg: float = field(default=1.0, metadata={"help": "weight of the negative (image + text) branch"})
    lambda_pos: float = field(default=0.0, metadata={"help": "Co-Erasing has no positive branch"})

    def validate(self) -> None:
        super().validate()
        if self.lambda_pos or not self.image_conditioning:
            raise UserError("--method co-erasing is the negative image+text branch only; use bi-erasing or esd")
