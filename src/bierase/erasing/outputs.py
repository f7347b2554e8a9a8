"""What an erasure writes, and how a folder of one is read back.

A run's folder holds the erased UNet (``unet/``, a plain diffusers folder without the IP-Adapter
branch used in training) or a LoRA (``pytorch_lora_weights.safetensors``, for
``pipe.load_lora_weights``), ``config.yaml`` (the resolved options, written when the run starts) and
``bierase.json`` (method, concepts, versions, losses, provenance). ``bierase.json`` is written last and
removed first: a folder without it holds no finished run, and nothing loads it as one. So an interrupted
run, resume or ``--overwrite`` never leaves a folder that loads mixed weights.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

from bierase.errors import UserError
from bierase.folders import check_writable

logger = logging.getLogger(__name__)

RUN_FILE = "bierase.json"
CONFIG_FILE = "config.yaml"
UNET = "unet"
LORA_FILE = "pytorch_lora_weights.safetensors"
CHECKPOINTS = "checkpoints"
# a run's own files, the marker first: --overwrite removes these and nothing else
RUN_FILES = (RUN_FILE, CONFIG_FILE, UNET, LORA_FILE, CHECKPOINTS, "references", "pipeline", f".{UNET}.tmp",
             ".lora.tmp", ".pipeline.tmp")  # fmt: skip


def describe_run(out: Path) -> str:
    if (out / RUN_FILE).is_file():
        return "a finished run"
    steps = sorted((out / CHECKPOINTS).glob("step-*"))
    return f"an unfinished run (checkpoint {steps[-1].name})" if steps else "an unfinished run (no checkpoint yet)"


def prepare_run_dir(output_dir: str, resume: bool, overwrite: bool) -> Path:
    """Checked before anything loads: continue the run there (``resume``), replace it (``overwrite``), or
    start in a new or empty folder. Anything else in the folder is never touched."""
    out = check_writable(output_dir)
    entries = sorted(p.name for p in out.iterdir()) if out.is_dir() else []
    is_run = (out / CONFIG_FILE).is_file()
    if resume:
        if not is_run:
            raise UserError(f"--resume: {out} holds no bierase run to continue (no {CONFIG_FILE}); drop --resume")
    elif entries and not overwrite:
        what = describe_run(out) if is_run else f"files that are not a bierase run ({', '.join(entries[:3])})"
        hint = "--resume to continue it, " if is_run else ""
        raise UserError(
            f"--output_dir {out} already holds {what}; pass {hint}--overwrite to replace "
            f"{'it' if is_run else 'nothing but write beside them'}, or choose a new folder"
        )
    elif entries:
        kept = remove_run_files(out)
        if kept:
            logger.warning(
                "--overwrite: kept %d file(s) that are not a run's in %s: %s", len(kept), out, ", ".join(kept)
            )
    out.mkdir(parents=True, exist_ok=True)
    return out


def remove_run_files(out: Path) -> list[str]:
    """Remove a run's own files, its marker first; returns the names of everything else, which stays."""
    for name in RUN_FILES:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    return sorted(p.name for p in out.iterdir())


def replace_path(tmp: Path, final: Path) -> None:
    """Move a fully written ``tmp`` file or folder to ``final``, replacing what was there."""
    if final.is_dir():
        shutil.rmtree(final)
    os.replace(tmp, final)


def erased_weights(path: str | Path, flag: str = "--unet") -> tuple[str, Path]:
    """``("unet", folder)`` or ``("lora", file)`` of an erasure's output folder (or of a ``unet/`` folder)."""
    folder = Path(path)
    if (folder / "config.json").is_file():
        return "unet", folder  # a UNet folder itself: the user named the weights
    if not (folder / RUN_FILE).is_file():
        if (folder / UNET).is_dir() or (folder / LORA_FILE).is_file() or (folder / CONFIG_FILE).is_file():
            raise UserError(
                f"{flag} {folder} holds no finished run (no {RUN_FILE}: it was interrupted or is being replaced); "
                f"continue it with `bierase erase --resume`, or pass {folder / UNET} itself"
            )
        raise UserError(f"{flag} {folder} holds no UNet or LoRA; pass the output folder of `bierase erase`")
    try:
        weights = json.loads((folder / RUN_FILE).read_text())["weights"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(f"{folder / RUN_FILE} is not a bierase run record ({type(error).__name__})") from error
    kind = "lora" if weights == LORA_FILE else "unet"
    return kind, folder / weights


def load_erased(output_dir: str | Path, pretrained_model_name_or_path: str | None = None, **kwargs):
    """A ``StableDiffusionPipeline`` or ``StableDiffusionXLPipeline`` (the base model's class) with the erased weights of ``output_dir`` (a UNet or a LoRA).

    The base model is the one the run recorded, unless given; ``kwargs`` go to ``from_pretrained``
    (``torch_dtype``, ``local_files_only``, ...).
    """
    from diffusers import UNet2DConditionModel

    from bierase.pipelines import pipeline_class

    kind, weights = erased_weights(output_dir, flag="load_erased:")
    base = pretrained_model_name_or_path
    if base is None:
        if not (Path(output_dir) / RUN_FILE).is_file():
            raise UserError(f"{output_dir} is a UNet folder without a run record; pass pretrained_model_name_or_path")
        base = json.loads((Path(output_dir) / RUN_FILE).read_text())["base_model"]
    pipe = pipeline_class(base).from_pretrained(base, **kwargs)
    if kind == "unet":
        dtype = {"torch_dtype": kwargs["torch_dtype"]} if "torch_dtype" in kwargs else {}
        pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(weights, **dtype))
    else:
        pipe.load_lora_weights(str(weights.parent), weight_name=weights.name)
    return pipe
