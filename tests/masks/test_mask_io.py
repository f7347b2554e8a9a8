"""Masks saved as grayscale PNGs named after their images, and read back with their names checked."""

import numpy as np
import pytest
from PIL import Image

from bierase.errors import UserError
from bierase.masks.io import load_masks, save_masks


def test_masks_round_trip_as_8_bit_grayscale_named_by_image_stem(tmp_path):
    masks = [np.linspace(0, 1, 12, dtype=np.float32).reshape(3, 4), np.ones((2, 2), np.float32)]
    paths = save_masks(masks, ["a.jpg", "b.png"], tmp_path)
    assert [p.name for p in paths] == ["a.png", "b.png"]
    assert Image.open(paths[0]).mode == "L"
    again = load_masks(tmp_path, ["a.jpg", "b.png"], sizes=[(3, 4), (2, 2)])
    for mask, loaded in zip(masks, again):
        assert loaded.dtype == np.float32
        np.testing.assert_allclose(loaded, mask, atol=0.5 / 255)


def test_a_missing_mask_is_named_along_with_the_files_that_are_there(tmp_path):
    save_masks([np.ones((2, 2))], ["other.png"], tmp_path)
    with pytest.raises(UserError, match="no mask for 1 image.*first a.png.*holds other.png"):
        load_masks(tmp_path, ["a.png"])


def test_a_mask_of_the_wrong_size_is_refused(tmp_path):
    save_masks([np.ones((2, 3))], ["a.png"], tmp_path)
    with pytest.raises(UserError, match="mask .*a.png is 3x2 but image a.png is 2x2"):
        load_masks(tmp_path, ["a.png"], sizes=[(2, 2)])


def test_images_sharing_a_stem_and_a_missing_folder_are_user_errors(tmp_path):
    with pytest.raises(UserError, match="share the stem"):
        save_masks([np.ones((2, 2))] * 2, ["a.png", "a.jpg"], tmp_path)
    with pytest.raises(UserError, match="does not exist"):
        load_masks(tmp_path / "nope", ["a.png"])
