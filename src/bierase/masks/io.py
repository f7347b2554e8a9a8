"""Masks on disk: 8-bit grayscale PNGs named after their images, so they can be inspected and reused."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from bierase.errors import UserError


def mask_name(image_name: str) -> str:
    return f"{Path(image_name).stem}.png"


def save_masks(masks: Sequence[np.ndarray], names: Sequence[str], folder: str | Path) -> list[Path]:
    """``folder/{stem}.png`` for each image name; values in [0, 1] are stored as 0..255."""
    if len(masks) != len(names):
        raise ValueError(f"got {len(masks)} masks but {len(names)} names")
    files = [mask_name(name) for name in names]
    if len(set(files)) != len(files):
        clash = sorted({f for f in files if files.count(f) > 1})
        raise UserError(f"several images share the stem of {', '.join(clash)}; rename them so each has its own mask")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / file for file in files]
    for mask, path in zip(masks, paths):
        Image.fromarray((np.clip(mask, 0, 1) * 255).round().astype(np.uint8)).save(path)
    return paths


def load_masks(
    folder: str | Path, names: Sequence[str], sizes: Sequence[tuple[int, int]] | None = None
) -> list[np.ndarray]:
    """float32 masks in [0, 1] for each image name; ``sizes`` (H, W per image), when given, are checked.

    Mask files for other names are ignored: only a missing mask is an error.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"mask folder {folder} does not exist; pass the folder the masks were saved to")
    missing = [name for name in names if not (folder / mask_name(name)).is_file()]
    if missing:
        wanted = {mask_name(name) for name in names}
        unmatched = sorted(p.name for p in folder.glob("*.png") if p.name not in wanted)
        hint = f" (it holds {', '.join(unmatched[:3])}{', ...' if len(unmatched) > 3 else ''})" if unmatched else ""
        raise UserError(
            f"{folder} has no mask for {len(missing)} image(s), first {', '.join(missing[:3])}{hint}; "
            "save a {stem}.png mask per image there or make the masks again"
        )
    masks = []
    for i, name in enumerate(names):
        path = folder / mask_name(name)
        try:
            with Image.open(path) as image:
                mask = np.asarray(image.convert("L"), dtype=np.float32) / 255
        except (OSError, ValueError) as error:
            raise UserError(f"mask {path} could not be read ({error}); replace it or make the masks again") from error
        if sizes is not None and mask.shape != tuple(sizes[i]):
            raise UserError(
                f"mask {path} is {mask.shape[1]}x{mask.shape[0]} but image {name} is {sizes[i][1]}x{sizes[i][0]} "
                "(width x height); make the masks again for these images"
            )
        masks.append(mask)
    return masks
