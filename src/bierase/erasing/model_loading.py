"""Loading what an erasure needs, with one-line errors that say what is missing."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from bierase.erasing.parameters import IMAGE_BRANCH
from bierase.errors import UserError, first_line
from bierase.pipelines import is_local, load_kwargs, pipeline_class, pipeline_class_name
from bierase.toyworld.load import quiet_loading


def check_model_source(path: str) -> str:
    """Before loading: a local path must be a complete folder of a pipeline class bierase runs; returns the
    class name (a hub id's is read from its model_index.json alone)."""
    return pipeline_class_name(path)


def load_base_pipeline(path: str, device: torch.device):
    """The base pipeline of the class its model_index.json names (SD 1.x/2.x or SDXL), without safety checker."""
    cls = pipeline_class(path)
    try:
        with quiet_loading():
            pipe = cls.from_pretrained(path, **load_kwargs(cls))
    except (OSError, ValueError, RuntimeError) as error:
        raise UserError(
            f"could not load the pipeline {path} ({first_line(error)}); check the path or hub id"
        ) from error
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def check_ip_adapter_source(source: str, subfolder: str, weight_name: str, model: str = "") -> None:
    """Before anything loads: local IP-Adapter weights exist, with an image encoder beside them or the pipeline's,
    and were made for ``model``'s UNet (when both are local)."""
    file = Path(source) / subfolder / weight_name
    if is_local(source) and not file.is_file():
        raise UserError(
            f"no IP-Adapter weights {file}; pass --ip_adapter, --ip_adapter_subfolder and --ip_adapter_weight_name "
            "(e.g. h94/IP-Adapter, models, ip-adapter_sd15.safetensors; sdxl_models, ip-adapter_sdxl.safetensors)"
        )
    unet_config = Path(model) / "unet" / "config.json"
    if model and is_local(source) and file.suffix == ".safetensors" and unet_config.is_file():
        check_ip_adapter_width(file, json.loads(unet_config.read_text()).get("cross_attention_dim"))


def check_ip_adapter_width(file: Path, width) -> None:
    """An adapter made for another model (SD 1.5's on SDXL, or the reverse) is refused from its file header
    alone: its image keys/values read the text's width, so ``to_k_ip`` must take the UNet's cross-attention width
    (diffusers would fail on the first mismatched layer, after loading the image encoder)."""
    from safetensors import safe_open

    with safe_open(str(file), framework="pt") as weights:
        keys = sorted(k for k in weights.keys() if k.endswith("to_k_ip.weight"))
        adapter = weights.get_slice(keys[0]).get_shape()[-1] if keys else None
    if isinstance(width, int) and adapter is not None and adapter != width:
        raise UserError(
            f"the IP-Adapter {file} is for a UNet with {adapter}-wide cross-attention, this model's is {width} "
            "(an SD 1.5 adapter on SDXL, or the reverse); pass the adapter made for this model with "
            "--ip_adapter_subfolder and --ip_adapter_weight_name"
        )


def attach_ip_adapter(pipe, source: str, subfolder: str, weight_name: str) -> None:
    """diffusers' own ``load_ip_adapter``: image encoder, projection and decoupled cross-attention."""
    check_ip_adapter_source(source, subfolder, weight_name)
    if is_local(source) and Path(weight_name).suffix == ".safetensors":
        check_ip_adapter_width(Path(source) / subfolder / weight_name, pipe.unet.config.cross_attention_dim)
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
