"""A run checks every path and option it will use before its first heavy step, and records what it used."""

import json

import numpy as np
import pytest
from PIL import Image

import bierase
from bierase.erasing import run as run_module
from bierase.errors import UserError


@pytest.fixture
def no_loading(monkeypatch):
    """Fails the test if a model starts loading: what is checked must be checked before."""

    def refuse(*args, **kwargs):
        raise AssertionError("the pipeline was loaded before the input was checked")

    monkeypatch.setattr(run_module, "load_base_pipeline", refuse)


def test_an_empty_reference_folder_is_found_before_the_pipeline_loads(tmp_path, tiny_config, no_loading):
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "notes.txt").write_text("no images here")
    with pytest.raises(UserError, match="--positive_images .*refs holds no images"):
        bierase.erase(tiny_config("bi-erasing", tmp_path / "o", positive_images=str(tmp_path / "refs")))
    with pytest.raises(UserError, match="--negative_images .*missing does not exist"):
        bierase.erase(tiny_config("co-erasing", tmp_path / "o", negative_images=str(tmp_path / "missing")))
    assert not (tmp_path / "o").exists()


def test_unreadable_reference_images_are_skipped_and_recorded(tmp_path, tiny_config):
    refs = tmp_path / "refs"
    refs.mkdir()
    for i in range(2):
        Image.fromarray(np.full((32, 32, 3), 60 * i, np.uint8)).save(refs / f"{i}.png")
    (refs / "broken.png").write_bytes(b"not an image")
    with pytest.warns(UserWarning, match="skipped 1 unreadable image"):
        out = bierase.erase(tiny_config("co-erasing", tmp_path / "o", negative_images=str(refs)))
    record = json.loads((out / "bierase.json").read_text())["references"]
    assert record == {"negative": {"folders": [str(refs)], "images": [2], "skipped": ["broken.png"]}}
