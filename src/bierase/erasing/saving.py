"""Writing the erased weights: a plain diffusers ``unet/`` (no IP-Adapter branch) or a PEFT LoRA, each
written under a temporary name and moved into place, so a crash never leaves half a UNet.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch
from diffusers import UNet2DConditionModel

from bierase.erasing.outputs import LORA_FILE, UNET, replace_path
from bierase.erasing.parameters import IMAGE_BRANCH
from bierase.pipelines import load_kwargs, pipeline_class


def plain_unet(trained: torch.nn.Module, base_config: dict) -> UNet2DConditionModel:
    """The trained weights in a UNet without the IP-Adapter branch."""
    unet = UNet2DConditionModel.from_config(base_config)
    state = {k: v for k, v in trained.state_dict().items() if not IMAGE_BRANCH.search(k)}
    unet.load_state_dict(state, strict=True)
    return unet


def save_unet(trained: torch.nn.Module, base_config: dict, output_dir: Path) -> Path:
    """``output_dir/unet``: the trained UNet as a plain one (rebuilt without the image branch if it has one)."""
    tmp = output_dir / f".{UNET}.tmp"
    with_branch = any(IMAGE_BRANCH.search(name) for name in trained.state_dict())
    (plain_unet(trained, base_config) if with_branch else trained).save_pretrained(tmp, safe_serialization=True)
    replace_path(tmp, output_dir / UNET)
    return output_dir / UNET


def save_lora(trained: torch.nn.Module, output_dir: Path, pipeline_cls: type | None = None) -> Path:
    """The LoRA, written by the base pipeline class's own ``save_lora_weights`` (SD and SDXL share the format)."""
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(trained))
    tmp = output_dir / ".lora.tmp"
    (pipeline_cls or StableDiffusionPipeline).save_lora_weights(tmp, unet_lora_layers=layers)
    replace_path(tmp / LORA_FILE, output_dir / LORA_FILE)
    shutil.rmtree(tmp, ignore_errors=True)
    return output_dir / LORA_FILE


def save_pipeline_folder(base_model: str, output_dir: Path, lora: bool) -> Path:
    """A complete pipeline folder: the base pipeline with the erased UNet (a LoRA fused in)."""
    cls = pipeline_class(base_model)
    pipe = cls.from_pretrained(base_model, **load_kwargs(cls))
    if lora:
        pipe.load_lora_weights(output_dir)
        pipe.fuse_lora()
        pipe.unload_lora_weights()
    else:
        pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(output_dir / UNET))
    tmp = output_dir / ".pipeline.tmp"
    pipe.save_pretrained(tmp)
    replace_path(tmp, output_dir / "pipeline")
    return output_dir / "pipeline"


def non_finite(tensors: dict[str, torch.Tensor]) -> list[str]:
    """Names of the tensors holding NaN or infinity."""
    return [name for name, value in tensors.items() if not bool(torch.isfinite(value).all())]
