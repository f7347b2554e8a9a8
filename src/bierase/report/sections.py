"""Report sections read from what the other commands leave on disk.

Each function takes folders or JSON files written by ``bierase erase``,
``bierase generate``, ``bierase evaluate`` or ``bierase benchmark`` and
returns an HTML fragment; ``bierase report`` and ``bierase demo`` compose them.
"""

from __future__ import annotations

import html as escape
import json
from pathlib import Path

import numpy as np
from PIL import Image

from bierase.images import IMAGE_SUFFIXES
from bierase.report import html, pareto

GRID_IMAGES = 32


def image_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def _load(folder: Path, names: list[str]) -> np.ndarray:
    images = [Image.open(folder / name).convert("RGB") for name in names]
    size = images[0].size
    return np.stack([np.asarray(image.resize(size)) for image in images])


def _scale(images: np.ndarray) -> int:
    return max(1, 96 // images.shape[1])  # 32 px toy images drawn 3x, SD's 512 px as they are


def before_after(before: Path, after: Path) -> str:
    """Grids of the images both folders hold under the same name (same prompt and seed)."""
    names = sorted(set(image_names(before)) & set(image_names(after)))[:GRID_IMAGES]
    first, second = _load(before, names), _load(after, names)
    columns = 8 if first.shape[1] <= 64 else 4
    return (
        "<h2>Images: same names, same seeds</h2><div class=grids>"
        + html.figure(first, f"before: {before}", columns, _scale(first))
        + html.figure(second, f"after: {after}", columns, _scale(second))
        + "</div>"
    )


def masks(run_dir: Path) -> str:
    """Each reference set of an erase run above its masks."""
    parts = []
    for which in ("negative", "positive"):
        folder = run_dir / "references"
        if not (folder / which).is_dir() or not (folder / f"{which}_masks").is_dir():
            continue
        names = image_names(folder / which)[:16]
        if names:
            images = np.concatenate([_load(folder / which, names), _load(folder / f"{which}_masks", names)])
            parts.append(html.figure(images, f"{which} references (top) and their masks (bottom)", 16, _scale(images)))
    return "<h2>Reference images and masks</h2>" + "".join(parts) if parts else ""


def losses(run_dir: Path) -> str:
    run = json.loads((run_dir / "bierase.json").read_text())
    caption = f"<p>{escape.escape(run.get('method', ''))}: {run.get('steps', 0)} steps, {run.get('seconds', 0)} s</p>"
    return "<h2>Training losses</h2>" + caption + html.loss_curve(run.get("losses", []), ["loss_neg", "loss_pos"])


NOT_FIGURES = {"parameters", "protocol", "protocol_version", "versions", "intervals"}  # shown elsewhere or noise


def _flatten(value, prefix: str = "") -> list[tuple[str, float]]:
    if isinstance(value, dict):
        return [item for key, v in value.items() if key not in NOT_FIGURES for item in _flatten(v, f"{prefix}{key}.")]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [(prefix.rstrip("."), float(value))]
    return []


def protocol(metrics_file: Path) -> str:
    """One ``metrics.json``: its protocol, version and parameters above its figures."""
    metrics = json.loads(metrics_file.read_text())
    name = f"{metrics.get('protocol', '?')} {metrics.get('protocol_version', '')}".strip()
    parameters = json.dumps(metrics.get("parameters", {}), sort_keys=True)
    figures = _flatten(metrics)
    rows = "".join(f"<tr><td>{escape.escape(k)}</td><td class=num>{v:.4g}</td></tr>" for k, v in figures)
    return (
        f"<h2>{escape.escape(metrics_file.parent.name or str(metrics_file))}</h2>"
        f"<p class=protocol>Protocol {escape.escape(name)}; parameters {escape.escape(parameters)}</p>"
        f"<table><tr><th>figure</th><th>value</th></tr>{rows}</table>"
    )


def benchmark(rows: list[dict], protocol_name: str, text_table: str) -> str:
    """The Pareto picture per scenario (erasure against preservation, intervals as bars) and the table."""
    plots = "".join(
        pareto.svg(scenario, group, "ACC_e (erased names shown)" if scenario.startswith("identities") else
                   "concept rate (explicit)")
        for scenario, group in pareto.points(rows).items()
    )  # fmt: skip
    return (
        f"<h2>Benchmark</h2><p class=protocol>Protocol {escape.escape(protocol_name)}</p>"
        + f"<div class=grids>{plots}</div>"
        + f"<pre>{escape.escape(text_table)}</pre>"
    )
