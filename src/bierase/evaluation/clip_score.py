"""CLIP score: how well images still match their prompts (utility after erasure).

Papers print it in two forms that differ by a factor of 100 and a clip at 0,
so both are reported, named:

- ``cosine``: mean cosine similarity of the image and text embeddings
  (about 0.31 for SD v1.4 on COCO with ``openai/clip-vit-base-patch32``);
- ``logit``: ``max(100 * mean cosine, 0)``, torchmetrics' ``CLIPScore``
  (which clips the mean, not each image; about 31). Per image the logit is
  ``max(100 * cosine, 0)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from bierase.errors import UserError, first_line

DEFAULT_MODEL = "openai/clip-vit-base-patch32"


def load_clip(name_or_path: str = DEFAULT_MODEL):
    """``(CLIPModel, CLIPProcessor)`` in eval mode; a one-line error naming ``--clip_model`` when it cannot load."""
    from transformers import CLIPModel, CLIPProcessor

    from bierase.toyworld.load import quiet_loading

    try:
        with quiet_loading():
            model = CLIPModel.from_pretrained(name_or_path)
            processor = CLIPProcessor.from_pretrained(name_or_path)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise UserError(
            f"could not load the CLIP model {name_or_path} ({first_line(error)}); "
            "pass --clip_model a CLIP folder or hub id"
        ) from error
    return model.eval(), processor


def cosine_scores(model, processor, images: Sequence, prompts: Sequence[str], batch_size: int = 32) -> np.ndarray:
    """Cosine similarity of each image (a file, PIL image or HWC uint8 array) with its own prompt.

    Files are read batch by batch, so a 10k-image folder never sits in memory.
    """
    import torch

    if len(images) != len(prompts):
        raise ValueError(f"got {len(images)} images but {len(prompts)} prompts; give one prompt per image")
    device = next(model.parameters()).device
    out = []
    for start in tqdm(range(0, len(images), batch_size), desc="clip score"):
        inputs = processor(
            text=list(prompts[start : start + batch_size]),
            images=[_as_image(item) for item in images[start : start + batch_size]],
            return_tensors="pt",
            padding=True,
            truncation=True,
        )
        with torch.no_grad():
            result = model(**{k: v.to(device) for k, v in inputs.items()})
        image = torch.nn.functional.normalize(result.image_embeds.float(), dim=-1)
        text = torch.nn.functional.normalize(result.text_embeds.float(), dim=-1)
        out.append((image * text).sum(-1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def logit_scores(cosines: np.ndarray) -> np.ndarray:
    """Per-image logit form: ``max(100 * cosine, 0)``."""
    return np.maximum(100.0 * np.asarray(cosines, np.float64), 0.0)


def summarize(cosines: np.ndarray) -> dict:
    """``{"cosine", "logit", "n"}``: the mean cosine and torchmetrics' clipped logit of the mean."""
    cosines = np.asarray(cosines, np.float64)
    if cosines.size == 0:
        raise UserError("no image-prompt pairs to score; check that the images are named by the prompts' case_number")
    mean = float(cosines.mean())
    return {"cosine": mean, "logit": max(100.0 * mean, 0.0), "n": int(cosines.size)}


def _as_image(item):
    from PIL import Image

    if isinstance(item, (str, Path)):
        with Image.open(item) as image:
            return image.convert("RGB")
    return item
