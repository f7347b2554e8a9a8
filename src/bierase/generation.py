"""Generating a prompt set with a (possibly erased) Stable Diffusion pipeline: one image per row.

What makes the images a benchmark rather than a sample:

- each image has its own ``torch.Generator`` on the CPU seeded with the row's
  seed (the protocol in the evaluation docs), so an image does not depend on
  its batch, the device's RNG or the number of processes;
- images are named ``<case_number>.png`` and written atomically, so an
  existing file means a finished image and a run can be resumed by running
  it again;
- ``manifest.csv`` says which prompt, seed and guidance made each file, and
  ``run.json`` the settings; a resumed run with other settings is refused
  (mixing them would make the folder's figures meaningless).

Under ``accelerate launch`` row ``i`` of the selection goes to process
``i % num_processes``; each process writes its own images and
``manifest.<rank>.csv``, and the main process merges them at the end.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm.auto import tqdm

from bierase.erasing.outputs import erased_weights
from bierase.errors import UserError, first_line
from bierase.prompts import PromptRow, read_prompt_csv, resolve_prompt_csv

DEFAULT_GUIDANCE = 7.5
MANIFEST = "manifest.csv"
MANIFEST_COLUMNS = ("case_number", "prompt", "seed", "guidance", "file")
RUN_FILE = "run.json"
DTYPES = ("float32", "float16", "bfloat16")
# settings that change the images: a resumed run must use the same ones
IMAGE_SETTINGS = (
    "pretrained_model_name_or_path",
    "unet",
    "lora",
    "prompts",
    "num_inference_steps",
    "guidance_scale",
    "height",
    "width",
    "dtype",
)
_SAFE_NAME = re.compile(r"[A-Za-z0-9_\-][A-Za-z0-9_.\-]*")


@dataclass(frozen=True)
class GenerationConfig:
    pretrained_model_name_or_path: str
    prompts: str
    output_dir: str
    unet: str | None = None
    lora: str | None = None
    limit: int | None = None
    start: int = 0
    end: int | None = None
    batch_size: int = 4
    num_inference_steps: int = 50
    guidance_scale: float | None = None  # None: the row's own, else DEFAULT_GUIDANCE
    height: int | None = None
    width: int | None = None
    dtype: str = "float32"


def select_rows(rows: Sequence[PromptRow], start: int = 0, end: int | None = None, limit: int | None = None):
    """Rows ``start:end`` of the set, then at most ``limit`` of them."""
    chosen = list(rows[start:end])
    return chosen if limit is None else chosen[:limit]


def rows_for_process(n_rows: int, process_index: int, num_processes: int) -> list[int]:
    """Indices of the rows one process generates: every ``num_processes``-th, from its own index.

    Deterministic and interleaved, so processes agree without talking and a
    resumed run (whose finished rows are spread evenly) stays balanced.
    """
    if not 0 <= process_index < num_processes:
        raise ValueError(f"process_index {process_index} is outside 0..{num_processes - 1}")
    return list(range(process_index, n_rows, num_processes))


def guidance_for(row: PromptRow, override: float | None) -> float:
    if override is not None:
        return float(override)
    return row.guidance if row.guidance is not None else DEFAULT_GUIDANCE


def batches(rows: Sequence[PromptRow], override: float | None, batch_size: int) -> list[tuple[float, list[PromptRow]]]:
    """Rows grouped by guidance (a pipeline call takes one scale), then cut into batches."""
    groups: dict[float, list[PromptRow]] = {}
    for row in rows:
        groups.setdefault(guidance_for(row, override), []).append(row)
    return [
        (scale, members[i : i + batch_size])
        for scale, members in groups.items()
        for i in range(0, len(members), batch_size)
    ]


def image_name(row: PromptRow) -> str:
    if not _SAFE_NAME.fullmatch(row.case_number):
        raise UserError(
            f"case_number {row.case_number!r} cannot name an image file; "
            "use ids made of letters, digits, '_', '-' and '.'"
        )
    return f"{row.case_number}.png"


def manifest_record(row: PromptRow, override: float | None) -> dict[str, str]:
    return {
        "case_number": row.case_number,
        "prompt": row.prompt,
        "seed": str(row.seed),
        "guidance": repr(guidance_for(row, override)),
        "file": image_name(row),
    }


def read_manifest(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_manifest(path: Path, records: Sequence[dict[str, str]]) -> None:
    """Write to a temporary file and rename it: a reader never sees half a manifest."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)
    os.replace(tmp, path)


def merge_manifests(folder: Path, order: Sequence[str]) -> Path:
    """``manifest.csv`` from itself and every ``manifest.<rank>.csv`` (also a crashed run's), then the rank files go.

    Only rows whose image exists are kept; rows are in prompt-set order.
    """
    folder = Path(folder)
    parts = sorted(folder.glob("manifest.*.csv"))
    merged: dict[str, dict[str, str]] = {}
    for path in [folder / MANIFEST, *parts]:
        for record in read_manifest(path):
            merged[record["case_number"]] = record
    position = {case: i for i, case in enumerate(order)}
    kept = [r for r in merged.values() if (folder / r["file"]).is_file()]
    kept.sort(key=lambda r: (position.get(r["case_number"], len(position)), r["case_number"]))
    write_manifest(folder / MANIFEST, kept)
    for path in parts:
        path.unlink()
    return folder / MANIFEST


def settings_of(config: GenerationConfig) -> dict:
    """The image-changing settings, with the prompt set and local paths written the same way every run."""
    settings = {key: getattr(config, key) for key in IMAGE_SETTINGS}
    settings["prompts"] = str(resolve_prompt_csv(config.prompts).resolve())
    for key in ("pretrained_model_name_or_path", "unet", "lora"):
        if settings[key] is not None and Path(settings[key]).exists():
            settings[key] = str(Path(settings[key]).resolve())
    return settings


def check_resumable(folder: Path, settings: dict) -> None:
    """Refuse to add images to a folder whose earlier images were made with other settings."""
    path = Path(folder) / RUN_FILE
    if not path.is_file():
        return
    try:
        before = json.loads(path.read_text()).get("config", {}).get("settings", {})
    except (json.JSONDecodeError, AttributeError):
        return
    changed = [k for k in IMAGE_SETTINGS if k in before and before[k] != settings[k]]
    if changed:
        detail = ", ".join(f"{k} {before[k]!r} -> {settings[k]!r}" for k in changed)
        raise UserError(
            f"{folder} holds images generated with other settings ({detail}); "
            "use a new --output_dir or the same settings to resume"
        )


def load_pipeline(config: GenerationConfig, device):
    """The base pipeline without safety checker, with the erased UNet or LoRA swapped in."""
    import torch
    from diffusers import UNet2DConditionModel

    from bierase.pipelines import load_kwargs, pipeline_class
    from bierase.toyworld.load import quiet_loading

    # float32 is the default everywhere; only other dtypes are passed (the keyword's name moves between versions)
    dtype = {} if config.dtype == "float32" else {"torch_dtype": getattr(torch, config.dtype)}
    source = config.pretrained_model_name_or_path
    unet_dir, lora_file = check_sources(config)
    cls = pipeline_class(source)
    try:
        with quiet_loading():
            pipe = cls.from_pretrained(source, **load_kwargs(cls), **dtype)
            if unet_dir is not None:
                pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(unet_dir, **dtype))
            if lora_file is not None:
                pipe.load_lora_weights(str(lora_file.parent), weight_name=lora_file.name)
    except (OSError, ValueError, RuntimeError, KeyError) as error:
        raise UserError(
            f"could not load the pipeline {source} ({first_line(error)}); check the paths or hub id"
        ) from error
    pipe.set_progress_bar_config(disable=True)
    return pipe.to(device)


def check_sources(config: GenerationConfig) -> tuple[Path | None, Path | None]:
    """Every path and choice the pipeline needs, checked before anything is written: (unet folder, LoRA file)."""
    from bierase.erasing.model_loading import check_model_source

    if config.dtype not in DTYPES:
        raise UserError(f"--dtype {config.dtype} is not supported; choose one of {', '.join(DTYPES)}")
    if config.unet and config.lora:
        raise UserError("--unet and --lora both given; pass the erased UNet or the LoRA, not both")
    check_model_source(config.pretrained_model_name_or_path)
    return (unet_folder(config.unet) if config.unet else None, lora_file(config.lora) if config.lora else None)


def unet_folder(path: str) -> Path:
    """``--unet`` may be the UNet folder or an erasure's output folder holding a finished run's ``unet/``."""
    kind, weights = erased_weights(path, "--unet")
    if kind == "lora":
        raise UserError(f"--unet {path} holds a LoRA ({weights.name}); pass it with --lora {path}")
    return weights


def lora_file(path: str) -> Path:
    """``--lora`` may be the weights file or an erasure's output folder holding a finished run's LoRA."""
    file = Path(path)
    if file.is_file():
        return file
    kind, weights = erased_weights(path, "--lora")
    if kind == "unet":
        raise UserError(f"--lora {path} holds an erased UNet, not a LoRA; pass it with --unet {path}")
    return weights


def process_state():
    """``accelerate.PartialState`` for this process; CPU-only machines split rows across processes too.

    accelerate only sets up several CPU processes when asked (``cpu=True``);
    asking on a single process would also keep a Mac off its GPU, so it is
    asked only under a multi-process launch without CUDA, or with ``ACCELERATE_USE_CPU``.
    """
    import torch
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    several = int(os.environ.get("WORLD_SIZE", "1")) > 1
    return PartialState(cpu=parse_flag_from_env("ACCELERATE_USE_CPU") or (several and not torch.cuda.is_available()))


def generate_prompt_set(config: GenerationConfig, state=None) -> Path:
    """Generate the selected rows not yet in ``output_dir``; return the folder.

    ``state`` is an ``accelerate.PartialState`` (``process_state()`` when not given).
    """
    state = state or process_state()
    out = Path(config.output_dir)
    if out.exists() and not out.is_dir():
        raise UserError(f"--output_dir {out} is a file; choose a folder")
    all_rows = read_prompt_csv(config.prompts)
    rows = select_rows(all_rows, config.start, config.end, config.limit)
    if not rows:
        raise UserError(
            f"no rows selected from {config.prompts} ({len(all_rows)} rows) with "
            f"--start {config.start} --end {config.end} --limit {config.limit}; widen the selection"
        )
    for row in rows:
        image_name(row)  # refuses ids that cannot name a file before any work
    check_sources(config)
    settings = settings_of(config)
    check_resumable(out, settings)
    state.wait_for_everyone()  # everyone has read the old run.json before the main process rewrites it
    out.mkdir(parents=True, exist_ok=True)
    if state.is_main_process:
        from bierase.runinfo import write_run_info

        write_run_info(out, {**asdict(config), "settings": settings}, name=RUN_FILE, rows_selected=len(rows))
    state.wait_for_everyone()

    mine = [rows[i] for i in rows_for_process(len(rows), state.process_index, state.num_processes)]
    manifest = out / (MANIFEST if state.num_processes == 1 else f"manifest.{state.process_index}.csv")
    # a single process keeps rows of earlier runs (other --start/--end) in its manifest as it goes
    kept = {r["case_number"]: r for r in read_manifest(manifest)} if state.num_processes == 1 else {}
    done = [row for row in mine if (out / image_name(row)).is_file()]
    pending = [row for row in mine if not (out / image_name(row)).is_file()]
    records = {**kept, **{row.case_number: manifest_record(row, config.guidance_scale) for row in done}}
    write_manifest(manifest, list(records.values()))

    if pending:
        pipe = load_pipeline(config, state.device)
        bar = tqdm(
            total=len(pending), desc=f"generate [{state.process_index}]", disable=not state.is_local_main_process
        )
        for scale, batch in batches(pending, config.guidance_scale, config.batch_size):
            for row, image in zip(batch, _generate_batch(pipe, batch, scale, config)):
                _save_atomically(image, out / image_name(row))
                records[row.case_number] = manifest_record(row, config.guidance_scale)
            write_manifest(manifest, list(records.values()))
            bar.update(len(batch))
        bar.close()

    state.wait_for_everyone()
    if state.is_main_process:
        merge_manifests(out, [row.case_number for row in all_rows])
    state.wait_for_everyone()
    return out


def _generate_batch(pipe, batch: Sequence[PromptRow], scale: float, config: GenerationConfig):
    import torch

    return pipe(
        [row.prompt for row in batch],
        num_inference_steps=config.num_inference_steps,
        guidance_scale=scale,
        height=config.height,
        width=config.width,
        generator=[torch.Generator("cpu").manual_seed(row.seed) for row in batch],
        output_type="pil",
    ).images


def _save_atomically(image, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    image.save(tmp, format="PNG")
    os.replace(tmp, path)
