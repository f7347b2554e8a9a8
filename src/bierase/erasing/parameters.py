"""Which UNet parameters an erasure trains, chosen by name on diffusers' module names.

The IP-Adapter image branch (``encoder_hid_proj``, ``to_k_ip``, ``to_v_ip``)
is never trainable: it conditions training and is not part of the result.
"""

from __future__ import annotations

import re

import torch

from bierase.erasing.training_config import TRAIN_METHODS
from bierase.errors import UserError

IMAGE_BRANCH = re.compile(r"(^encoder_hid_proj\.|\.to_[kv]_ip\.)")

# ESD's "noxattn" leaves out cross-attention and, in CompVis naming, the time
# embedding and the output layer. In diffusers those are time_embedding,
# conv_norm_out and conv_out: matching CompVis names against a diffusers UNet
# (as the reference code does) silently trains them too.
_NOXATTN_EXCLUDED = re.compile(r"(attn2\.|^time_embedding\.|^conv_out\.|^conv_norm_out\.)")


def is_selected(name: str, method: str) -> bool:
    if IMAGE_BRANCH.search(name):
        return False
    if method == "full":
        return True
    if method == "xattn":
        return "attn2." in name
    if method == "selfattn":
        return "attn1." in name
    if method == "noxattn":
        return not _NOXATTN_EXCLUDED.search(name)
    raise UserError(f"unknown train method {method!r}; choose one of {', '.join(TRAIN_METHODS)}")


def select_parameters(unet: torch.nn.Module, method: str) -> dict[str, torch.nn.Parameter]:
    """Freeze the UNet, then unfreeze and return the parameters of ``method``."""
    unet.requires_grad_(False)
    chosen = {name: p for name, p in unet.named_parameters() if is_selected(name, method)}
    if not chosen:
        raise UserError(f"train method {method!r} selects no parameters of this UNet; choose another --train_method")
    for p in chosen.values():
        p.requires_grad_(True)
    return chosen


def lora_target_modules(method: str) -> str:
    """A PEFT ``target_modules`` regex: the attention projections the parameter set covers."""
    projections = r"(to_q|to_k|to_v|to_out\.0)"
    if method == "xattn":
        return rf".*attn2\.{projections}$"
    if method == "selfattn":
        return rf".*attn1\.{projections}$"
    if method in ("full", "noxattn"):
        attn = "attn1" if method == "noxattn" else "attn[12]"
        return rf".*{attn}\.{projections}$"
    raise UserError(f"unknown train method {method!r}; choose one of {', '.join(TRAIN_METHODS)}")
