"""Evaluating a folder of generated images under one named, versioned protocol.

Every figure leaves with the protocol's name, version and parameters
(``metrics.json``), so a number is never read without knowing how it was
counted; per-image details (NudeNet's raw detections, each image's CLIP
score) go to ``per_image.json`` so other protocols can be recomputed from
them and outliers inspected.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bierase.errors import UserError
from bierase.images import IMAGE_SUFFIXES

METRICS_FILE = "metrics.json"
PER_IMAGE_FILE = "per_image.json"
PROTOCOLS = ("nudenet-mace", "nudenet-unlearndiffatk", "nudenet-bi-erasing", "clip", "fid")


@dataclass
class FolderEvaluation:
    protocol: str
    protocol_version: str
    parameters: dict[str, Any]
    metrics: dict[str, Any]
    images: str
    n_images: int
    per_image: dict[str, Any] = field(default_factory=dict)


def image_files(folder: str | Path, skip_unreadable: bool = False, flag: str = "--images") -> list[Path]:
    """The folder's image files, sorted; unreadable ones are an error (or skipped with a warning)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{flag} {folder} is not a folder; pass the folder of images")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    broken = unreadable(files)
    if broken:
        names = ", ".join(p.name for p in broken[:5]) + (f" and {len(broken) - 5} more" if len(broken) > 5 else "")
        if not skip_unreadable:
            raise UserError(
                f"{len(broken)} unreadable image(s) in {folder}: {names}; "
                "delete or regenerate them, or pass --skip_unreadable"
            )
        print(f"warning: skipping {len(broken)} unreadable image(s) in {folder}: {names}", file=sys.stderr)
        files = [p for p in files if p not in set(broken)]
    if not files:
        raise UserError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}; pass the folder the images are in")
    return files


def unreadable(paths: list[Path]) -> list[Path]:
    from PIL import Image

    broken = []
    for path in paths:
        try:
            with Image.open(path) as image:
                image.verify()
        except Exception:  # PIL raises many types for a bad file; any of them means unreadable
            broken.append(path)
    return broken


def evaluate_folder(
    images: str | Path,
    protocol: str,
    prompts: str | Path | None = None,
    reference_images: str | Path | None = None,
    clip_model: str | None = None,
    batch_size: int = 32,
    skip_unreadable: bool = False,
) -> FolderEvaluation:
    """Run ``protocol`` on the images in ``images``."""
    if protocol not in PROTOCOLS:
        raise UserError(f"unknown protocol {protocol!r}; choose one of {', '.join(PROTOCOLS)}")
    if protocol.startswith("nudenet-"):
        return _nudenet(images, protocol, skip_unreadable)
    if protocol == "clip":
        return _clip(images, prompts, clip_model, batch_size, skip_unreadable)
    return _fid(images, reference_images)


def _nudenet(images: str | Path, name: str, skip_unreadable: bool) -> FolderEvaluation:
    from bierase.evaluation import nudenet

    files = image_files(images, skip_unreadable)
    detections = nudenet.detect(files)
    protocol = nudenet.PROTOCOLS[name]
    metrics = nudenet.count(list(detections.values()), protocol)
    parameters = {**protocol.parameters(), "nudenet_installed": nudenet.installed_version()}
    return FolderEvaluation(
        name, protocol.version, parameters, metrics, str(images), len(files), {"detections": detections}
    )


def _clip(images, prompts, clip_model, batch_size: int, skip_unreadable: bool) -> FolderEvaluation:
    from bierase.evaluation import clip_score
    from bierase.generation import MANIFEST
    from bierase.prompts import read_prompt_csv

    files = image_files(images, skip_unreadable)  # the folder first: a missing one is not a missing manifest
    if prompts is None:
        if not (Path(images) / MANIFEST).is_file():
            raise UserError(
                f"the clip protocol pairs each image with its prompt, and {images} has no {MANIFEST} (written by "
                "`bierase generate`); pass --prompts, the CSV the images came from (one row per <case_number>.png)"
            )
        prompts = Path(images) / MANIFEST
    by_case = {row.case_number: row.prompt for row in read_prompt_csv(prompts)}
    orphans = [p.name for p in files if p.stem not in by_case]
    if orphans:
        raise UserError(
            f"{len(orphans)} image(s) in {images} have no row in {prompts} (e.g. {', '.join(orphans[:3])}); "
            "name images <case_number>.png or pass the matching --prompts"
        )
    model_name = clip_model or clip_score.DEFAULT_MODEL
    model, processor = clip_score.load_clip(model_name)
    import torch

    if torch.cuda.is_available():
        model = model.to("cuda")
    texts = [by_case[p.stem] for p in files]
    cosines = clip_score.cosine_scores(model, processor, files, texts, batch_size)
    logits = clip_score.logit_scores(cosines)
    per_image = {p.name: {"cosine": float(c), "logit": float(g)} for p, c, g in zip(files, cosines, logits)}
    parameters = {
        "clip_model": model_name,
        "prompts": str(prompts),
        "cosine": "mean cosine of image and prompt embeddings",
        "logit": "max(100 * mean cosine, 0) (torchmetrics CLIPScore)",
    }
    return FolderEvaluation(
        "clip", "1", parameters, clip_score.summarize(cosines), str(images), len(files), {"scores": per_image}
    )


def _fid(images, reference_images) -> FolderEvaluation:
    from bierase.evaluation.frechet import MIN_SAMPLES, clean_fid

    if reference_images is None:
        raise UserError("the fid protocol needs --reference_images (the folder of real images to compare with)")
    generated = image_files(images)  # clean-fid reads whole folders: no skipping here
    reference = image_files(reference_images, flag="--reference_images")
    for flag, folder, files in (("--images", images, generated), ("--reference_images", reference_images, reference)):
        if len(files) < MIN_SAMPLES:
            raise UserError(
                f"{flag} {folder} has {len(files)} image(s); FID needs at least {MIN_SAMPLES} (use thousands)"
            )
    value = clean_fid(images, reference_images, mode="clean")
    from importlib import metadata

    try:
        version = metadata.version("clean-fid")
    except metadata.PackageNotFoundError:  # importable without pip's record of it (a source checkout)
        version = "unknown version"
    parameters = {
        "implementation": f"clean-fid {version}",
        "mode": "clean",
        "reference_images": str(reference_images),
    }
    metrics = {"fid": value, "images": len(generated), "reference_images": len(reference)}
    return FolderEvaluation("fid", "1", parameters, metrics, str(images), len(generated))


def write_outputs(result: FolderEvaluation, output_dir: str | Path, config: dict[str, Any]) -> Path:
    """``metrics.json`` (protocol, version, parameters, figures, config, versions) and ``per_image.json``."""
    import json

    from bierase.runinfo import write_run_info

    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if result.per_image:
        (out / PER_IMAGE_FILE).write_text(json.dumps(result.per_image, indent=1, default=float) + "\n")
    return write_run_info(
        out,
        config,
        name=METRICS_FILE,
        protocol=result.protocol,
        protocol_version=result.protocol_version,
        parameters=result.parameters,
        metrics=result.metrics,
        images=result.images,
        n_images=result.n_images,
    )


def format_table(result: FolderEvaluation) -> str:
    """The figures as a two-column table for the terminal."""
    rows: list[tuple[str, str]] = []
    metrics = result.metrics
    if "per_class" in metrics:
        unit = metrics["unit"].replace("_", " ")
        beside = set(result.parameters.get("reported_beside", ()))
        rows += [
            (f"{name} (not in total)" if name in beside else name, str(value))
            for name, value in metrics["per_class"].items()
        ]
        rows.append((f"total ({unit})", str(metrics["total"])))
        if "rate_percent" in metrics:
            rows.append(("rate (%)", f"{metrics['rate_percent']:.2f}"))
    else:
        rows += [(key, f"{value:.4f}" if isinstance(value, float) else str(value)) for key, value in metrics.items()]
    width = max(len(label) for label, _ in rows)
    header = f"{result.protocol} (v{result.protocol_version}) on {result.images}: {result.n_images} images"
    return "\n".join([header, *(f"  {label.ljust(width)}  {value}" for label, value in rows)])
