"""Loading what an erasure needs, with one-line errors that say what is missing."""

from __future__ import annotations

from pathlib import Path

import torch

from bierase.erasing.parameters import IMAGE_BRANCH
from bierase.errors import UserError, first_line
from bierase.toyworld.load import check_pipeline_folder, quiet_loading


def is_local(path: str) -> bool:
    return Path(path).exists() or path.startswith((".", "/", "~"))


def check_model_source(path: str) -> None:
    """Before loading: a local path must be a pipeline folder (hub ids are checked by the hub)."""
    if is_local(path):
        check_pipeline_folder(path)


def load_base_pipeline(path: str, device: torch.device):
    from diffusers import StableDiffusionPipeline

    try:
        with quiet_loading():
            pipe = StableDiffusionPipeline.from_pretrained(path, safety_checker=None, requires_safety_checker=False)
    except (OSError, ValueError, RuntimeError) as error:
        raise UserError(
            f"could not load the pipeline {path} ({first_line(error)}); check the path or hub id"
        ) from error
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def check_ip_adapter_source(source: str, subfolder: str, weight_name: str) -> None:
    """Before anything loads: local IP-Adapter weights exist, with an image encoder beside them or the pipeline's."""
    if is_local(source) and not (Path(source) / subfolder / weight_name).is_file():
        raise UserError(
            f"no IP-Adapter weights {Path(source) / subfolder / weight_name}; pass --ip_adapter, "
            "--ip_adapter_subfolder and --ip_adapter_weight_name (e.g. h94/IP-Adapter, models, ip-adapter_sd15.safetensors)"
        )


def attach_ip_adapter(pipe, source: str, subfolder: str, weight_name: str) -> None:
    """diffusers' own ``load_ip_adapter``: image encoder, projection and decoupled cross-attention."""
    check_ip_adapter_source(source, subfolder, weight_name)
    try:
        with quiet_loading():
            pipe.load_ip_adapter(source, subfolder=subfolder, weight_name=weight_name)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        raise UserError(f"could not load the IP-Adapter from {source} ({first_line(error)})") from error
    if pipe.image_encoder is None:
        raise UserError(
            f"the IP-Adapter from {source} came without an image encoder; put image_encoder/ beside its weights"
        )


def load_clipseg(source: str):
    from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor

    try:
        with quiet_loading():
            return CLIPSegForImageSegmentation.from_pretrained(source).eval(), CLIPSegProcessor.from_pretrained(source)
    except (OSError, ValueError) as error:
        raise UserError(f"could not load the segmenter {source} ({first_line(error)}); pass --segmenter") from error


def check_init_unet(folder: str) -> None:
    if folder and not (Path(folder) / "config.json").is_file():
        raise UserError(f"--init_unet {folder} is not a diffusers unet/ folder (no config.json)")


def load_init_unet(student: torch.nn.Module, folder: str) -> None:
    """Start the student from an already erased UNet (Co-Erasing starts from ESD's); strict on every key
    but the IP-Adapter branch, which a plain UNet does not have."""
    from diffusers import UNet2DConditionModel

    erased = UNet2DConditionModel.from_pretrained(folder).state_dict()
    missing, unexpected = student.load_state_dict(erased, strict=False)
    leftover = [k for k in missing if not IMAGE_BRANCH.search(k)]
    if leftover or unexpected:
        raise UserError(f"--init_unet {folder} does not match the base UNet ({(leftover + unexpected)[0]} ...)")
