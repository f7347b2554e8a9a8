"""Loading a built toy world (the bundled one by default) through the public APIs."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from bierase.errors import UserError, first_line
from bierase.pipelines import SD, pipeline_class_name

BUNDLED = Path(__file__).parent / "model"
IP_ADAPTER_WEIGHTS = "ip_adapter.safetensors"
_REQUIRED = ("model_index.json", "unet", "vae", "text_encoder", "tokenizer", "scheduler")


@contextmanager
def quiet_loading():
    """No loading bars from diffusers or transformers: small models load instantly, errors stay one line."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    try:
        yield
    finally:
        diffusers_logging.enable_progress_bar()
        transformers_logging.enable_progress_bar()


def model_path() -> Path:
    """The folder of the toy world that ships with the package."""
    return BUNDLED


def check_pipeline_folder(path: str | Path) -> Path:
    """Fail early, in one line, when ``path`` is not a diffusers Stable Diffusion folder."""
    folder = Path(path)
    if not folder.is_dir():
        raise UserError(f"model folder {folder} does not exist; pass a diffusers pipeline folder")
    missing = [name for name in _REQUIRED if not (folder / name).exists()]
    if missing:
        raise UserError(
            f"{folder} is not a Stable Diffusion pipeline folder (missing {', '.join(missing)}); "
            "pass a folder saved with StableDiffusionPipeline.save_pretrained"
        )
    name = pipeline_class_name(folder)
    if name != SD:  # the toy world's judge, attack and benchmark are written for its own (SD 1.x-shaped) pipeline
        raise UserError(f"{folder} is a {name}; the toy-world commands run StableDiffusionPipeline folders only")
    return folder


def load_pipeline(path: str | Path | None = None, ip_adapter: bool = False):
    """A ``StableDiffusionPipeline`` from ``path`` (default: the bundled toy world)."""
    from diffusers import StableDiffusionPipeline

    folder = check_pipeline_folder(path or BUNDLED)
    try:
        with quiet_loading():
            pipe = StableDiffusionPipeline.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, RuntimeError) as error:
        raise UserError(
            f"could not load the pipeline in {folder} ({first_line(error)}); rebuild or re-download it"
        ) from error
    pipe.set_progress_bar_config(disable=True)
    if ip_adapter:
        if not (folder / IP_ADAPTER_WEIGHTS).is_file():
            raise UserError(f"{folder} has no {IP_ADAPTER_WEIGHTS}; pass a toy world folder or load your own adapter")
        pipe.load_ip_adapter(folder, subfolder="", weight_name=IP_ADAPTER_WEIGHTS, local_files_only=True)
    return pipe


def load_segmenter(path: str | Path | None = None):
    from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor

    folder = Path(path or BUNDLED) / "segmenter"
    if not (folder / "config.json").is_file():
        raise UserError(f"no segmenter in {folder}; pass a toy world folder")
    return CLIPSegForImageSegmentation.from_pretrained(folder).eval(), CLIPSegProcessor.from_pretrained(folder)


def load_judge(path: str | Path | None = None):
    from bierase.toyworld.judge import Judge

    folder = Path(path or BUNDLED) / "judge"
    if not (folder / "model.safetensors").is_file():
        raise UserError(f"no judge in {folder}; pass a toy world folder")
    return Judge.from_pretrained(folder).eval()
