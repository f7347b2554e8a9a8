"""Co-Erasing's text-guided refinement of the image tokens.

Each projected image token ``p`` (IP-Adapter's output, one of 4 for SD 1.5)
attends over the concept prompt's text tokens ``T`` and is replaced by what it
reads there::

    p' = softmax(p T^T / sqrt(d)) T

so the image chooses which parts of the concept prompt carry weight, and what
reaches the image branch lies in the span of the concept's text tokens: the
background and other content of the reference image that the concept does not
name cannot pass. This is the form the authors' code runs (queries from the
image, keys and values from the text, every text position including padding);
note that it sends no image feature itself to the UNet, only a text mix the
image selects.

It is installed as a forward hook on the UNet's IP-Adapter projection
(``encoder_hid_proj``), a PyTorch extension point, on teacher and student
alike, so every call with image tokens sees the refined ones.
"""

from __future__ import annotations

import math

import torch


def refine(tokens: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """``tokens`` (..., n, d) image tokens; ``text`` (1, L, d) concept text states -> refined (..., n, d)."""
    text = text.to(tokens.dtype).reshape((1,) * (tokens.dim() - 2) + tuple(text.shape[-2:]))
    scores = tokens @ text.transpose(-1, -2) / math.sqrt(tokens.shape[-1])
    return scores.softmax(dim=-1) @ text


def attach_refinement(unet: torch.nn.Module, text: torch.Tensor) -> torch.utils.hooks.RemovableHandle:
    """Refine every image token ``unet`` makes by the concept's ``text`` states; returns the hook's handle."""
    projection = getattr(unet, "encoder_hid_proj", None)
    if projection is None:
        raise ValueError("the UNet has no IP-Adapter projection (encoder_hid_proj); load the IP-Adapter first")
    guide = text.detach()

    def replace(module, inputs, output):
        if isinstance(output, (list, tuple)):
            return [refine(tokens, guide.to(tokens.device)) for tokens in output]
        return refine(output, guide.to(output.device))

    return projection.register_forward_hook(replace)
