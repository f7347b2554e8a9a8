"""ESD's options: the shared training options, with ESD-x (cross-attention only) as its parameter set."""

from __future__ import annotations

from dataclasses import dataclass

from bierase.erasing.options import redefault
from bierase.erasing.training_config import TrainingConfig


@dataclass
class ESDConfig(TrainingConfig):
    HELP_COMMAND = "bierase erase --method esd --help"
    train_method: str = redefault(TrainingConfig, "train_method", "xattn",
                                  help="parameters to train: ESD-x (xattn), ESD-u (noxattn) or full; xattn is "
                                  "diffusers' attn2 of every transformer block, on SDXL too")  # fmt: skip
