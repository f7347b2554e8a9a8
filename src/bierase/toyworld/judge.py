"""The judge: a classifier of the toy world's attributes, used only to evaluate.

It is trained on renders with known labels and shares nothing with the
generator (no CLIP, no VAE), so a generator cannot fool it by sharing its
mistakes. Saved and loaded with huggingface_hub's ``PyTorchModelHubMixin``
(``config.json`` + ``model.safetensors``).
"""

from __future__ import annotations

import numpy as np
import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

from bierase.toyworld.pool import images_to_tensor
from bierase.toyworld.world import LABELS


class Judge(nn.Module, PyTorchModelHubMixin):
    def __init__(self, width: int = 32, heads: dict[str, int] | None = None):
        super().__init__()
        heads = heads or {attribute: len(values) for attribute, values in LABELS.items()}
        self.heads_config = heads

        def block(cin: int, cout: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(), nn.MaxPool2d(2))

        self.body = nn.Sequential(
            block(3, width), block(width, 2 * width), block(2 * width, 4 * width), nn.AdaptiveAvgPool2d(2), nn.Flatten()
        )
        self.heads = nn.ModuleDict({name: nn.Linear(16 * width, n) for name, n in heads.items()})

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits per attribute for NCHW images in [-1, 1]."""
        features = self.body(images)
        return {name: head(features) for name, head in self.heads.items()}

    @torch.no_grad()
    def features(self, images: np.ndarray | torch.Tensor, chunk: int = 512) -> torch.Tensor:
        """The penultimate features (N, 16 * width): the toy world's stand-in for Inception features in FID."""
        x = images_to_tensor(images) if isinstance(images, np.ndarray) else images
        self.eval()
        return torch.cat([self.body(x[start : start + chunk]) for start in range(0, len(x), chunk)])

    @torch.no_grad()
    def predict(self, images: np.ndarray | torch.Tensor, chunk: int = 512) -> dict[str, list[str]]:
        """Attribute values for uint8 NHWC images (or NCHW tensors in [-1, 1])."""
        x = images_to_tensor(images) if isinstance(images, np.ndarray) else images
        self.eval()
        out: dict[str, list[str]] = {name: [] for name in self.heads}
        for start in range(0, len(x), chunk):
            logits = self(x[start : start + chunk])
            for name, values in logits.items():
                out[name] += [LABELS[name][i] for i in values.argmax(1).tolist()]
        return out
