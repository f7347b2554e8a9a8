"""Which diffusers pipeline a model is, read from its ``model_index.json`` before any weights load.

bierase runs two pipeline classes: ``StableDiffusionPipeline`` (SD 1.x and 2.x: one text encoder) and
``StableDiffusionXLPipeline`` (SDXL base: two text encoders, pooled text embeddings and size "time ids"
as extra UNet conditions). Everything that loads a pipeline asks this module which class to load, so
that an erased UNet or LoRA loads back into the same class in plain diffusers. Anything else, an SDXL
refiner in particular (it has no first text encoder and does not generate from text alone), is refused
in one line while nothing but a small JSON file has been read.
"""

from __future__ import annotations

import json
from pathlib import Path

from bierase.errors import UserError, first_line

SD, SDXL = "StableDiffusionPipeline", "StableDiffusionXLPipeline"
# the sub-folders a local folder of each class must hold (the safety checker is never loaded)
REQUIRED = {
    SD: ("unet", "vae", "text_encoder", "tokenizer", "scheduler"),
    SDXL: ("unet", "vae", "text_encoder", "tokenizer", "text_encoder_2", "tokenizer_2", "scheduler"),
}
INDEX = "model_index.json"


def is_local(path: str | Path) -> bool:
    return Path(path).exists() or str(path).startswith((".", "/", "~"))


def model_index(path: str | Path) -> dict:
    """The pipeline's ``model_index.json``: read from the folder, or fetched alone from the hub."""
    if is_local(path):
        folder = Path(path)
        if not folder.is_dir():
            raise UserError(f"model folder {folder} does not exist; pass a diffusers pipeline folder")
        if not (folder / INDEX).is_file():
            raise UserError(
                f"{folder} is not a diffusers pipeline folder (no {INDEX}); pass a folder saved with save_pretrained"
            )
        try:
            return json.loads((folder / INDEX).read_text())
        except ValueError as error:
            raise UserError(f"{folder / INDEX} is not valid JSON ({first_line(error)})") from error
    from diffusers import DiffusionPipeline

    try:
        return DiffusionPipeline.load_config(str(path))
    except (OSError, ValueError) as error:
        raise UserError(f"could not read {INDEX} of {path} ({first_line(error)}); check the hub id") from error


def pipeline_class_name(path: str | Path) -> str:
    """``SD`` or ``SDXL`` for ``path``; a one-line error for a refiner or any other pipeline class."""
    index = model_index(path)
    name = index.get("_class_name")
    if name == SDXL and not _has(index, "text_encoder"):
        raise UserError(f"{path} is a {SDXL} without text_encoder; pass a complete SDXL base folder")
    if name not in REQUIRED:
        hint = (
            "an SDXL refiner cannot erase or generate from text alone; pass the SDXL base model"
            if name == "StableDiffusionXLImg2ImgPipeline"
            else f"bierase runs {SD} (SD 1.x, 2.x) and {SDXL} (SDXL base) folders"
        )
        raise UserError(f"{path} is a {name or 'pipeline of unknown class'}, which bierase does not run; {hint}")
    if is_local(path):
        missing = [sub for sub in REQUIRED[name] if not (Path(path) / sub).exists() or not _has(index, sub)]
        if missing:
            raise UserError(
                f"{path} is not a complete {name} folder (missing {', '.join(missing)}); "
                f"pass a folder saved with {name}.save_pretrained"
            )
    return name


def _has(index: dict, component: str) -> bool:
    """Whether the index names a class for ``component`` (a refiner's is ``[null, null]``)."""
    entry = index.get(component)
    return isinstance(entry, list) and entry[-1] is not None


def pipeline_class(path: str | Path) -> type:
    """The diffusers class to load ``path`` with (checked by ``pipeline_class_name``)."""
    import diffusers

    return getattr(diffusers, pipeline_class_name(path))


def load_kwargs(cls: type) -> dict:
    """``from_pretrained`` keywords that keep the safety checker out: only SD 1.x/2.x pipelines have one."""
    return {"safety_checker": None, "requires_safety_checker": False} if cls.__name__ == SD else {}


def is_sdxl(pipe) -> bool:
    """An SDXL pipeline: its UNet takes pooled text embeddings and time ids beside the text states."""
    return getattr(pipe.unet.config, "addition_embed_type", None) == "text_time"
