"""Fixtures for the evaluation tests: real photographs (scikit-image's samples) and a tiny random CLIP."""

from __future__ import annotations

import pytest

PHOTOS = ("astronaut", "coffee", "chelsea")


@pytest.fixture(scope="session")
def photos(tmp_path_factory):
    """A folder of real photographs as PNG files named like generated images (``<case_number>.png``)."""
    from PIL import Image
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    for i, name in enumerate(PHOTOS):
        Image.fromarray(getattr(data, name)()).save(folder / f"{i}.png")
    return folder


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory):
    """A randomly initialised small CLIP with the toy world's tokenizer, saved like a hub model."""
    import torch
    from transformers import CLIPModel, CLIPProcessor

    from bierase.toyworld.tokenizer import build_tokenizer
    from bierase.toyworld.train.clip import clip_config, image_processor
    from bierase.toyworld.vocabulary import all_words

    torch.manual_seed(0)
    tokenizer = build_tokenizer(all_words())
    folder = tmp_path_factory.mktemp("clip")
    CLIPModel(clip_config(len(tokenizer), width=32, layers=1)).save_pretrained(folder)
    CLIPProcessor(image_processor=image_processor(), tokenizer=tokenizer).save_pretrained(folder)
    return folder
