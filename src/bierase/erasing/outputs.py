"""What an erasure writes: the erased UNet (or a LoRA), ``bierase.json``, ``config.yaml``.

The erased UNet is a plain diffusers ``unet/`` folder: the IP-Adapter image
branch used during training is left out, so it loads into any Stable
Diffusion pipeline. A LoRA is ``pytorch_lora_weights.safetensors``, loaded
with ``pipe.load_lora_weights(output_dir)``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from diffusers import StableDiffusionPipeline, UNet2DConditionModel

from bierase.erasing.checkpoint import FOLDER as CHECKPOINTS
from bierase.erasing.parameters import IMAGE_BRANCH
from bierase.errors import UserError

RUN_FILE = "bierase.json"
CONFIG_FILE = "config.yaml"


def prepare_output_dir(output_dir: str, resume: bool, overwrite: bool) -> Path:
    """Refuse to mix runs: a folder with anything in it needs --resume or --overwrite."""
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"--output_dir {out} is a file; choose a folder")
    busy = out.exists() and any(out.iterdir())
    if resume:
        if not (out / CHECKPOINTS).is_dir():
            raise UserError(f"--resume: {out} holds no checkpoints to resume; drop --resume to start a new run")
    elif busy and not overwrite:
        raise UserError(
            f"--output_dir {out} already holds files; pass --resume to continue that run, "
            "--overwrite to replace it, or choose a new folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    return out


def plain_unet(trained: torch.nn.Module, base_config: dict) -> UNet2DConditionModel:
    """The trained weights in a UNet without the IP-Adapter branch."""
    unet = UNet2DConditionModel.from_config(base_config)
    state = {k: v for k, v in trained.state_dict().items() if not IMAGE_BRANCH.search(k)}
    unet.load_state_dict(state, strict=True)
    return unet


def save_unet(trained: torch.nn.Module, base_config: dict, output_dir: Path) -> Path:
    unet = plain_unet(trained, base_config)
    unet.save_pretrained(output_dir / "unet", safe_serialization=True)
    return output_dir / "unet"


def save_lora(trained: torch.nn.Module, output_dir: Path) -> Path:
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict

    layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(trained))
    StableDiffusionPipeline.save_lora_weights(output_dir, unet_lora_layers=layers)
    return output_dir / "pytorch_lora_weights.safetensors"


def save_pipeline_folder(base_model: str, output_dir: Path, lora: bool) -> Path:
    """A complete pipeline folder: the base pipeline with the erased UNet (a LoRA fused in)."""
    pipe = StableDiffusionPipeline.from_pretrained(base_model, safety_checker=None, requires_safety_checker=False)
    if lora:
        pipe.load_lora_weights(output_dir)
        pipe.fuse_lora()
        pipe.unload_lora_weights()
    else:
        pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(output_dir / "unet"))
    pipe.save_pretrained(output_dir / "pipeline")
    return output_dir / "pipeline"
