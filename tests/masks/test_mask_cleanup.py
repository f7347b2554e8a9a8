"""Mask cleanup (threshold, specks, close/open, blur) and the mean-colour fill."""

import numpy as np
import pytest

from bierase.errors import UserError
from bierase.masks.cleanup import CleanupConfig, clean_mask, clean_masks
from bierase.masks.fill import mean_fill, mean_fill_all

HARD = CleanupConfig(radius=1, sigma=0.0)  # binary output, so pixels can be checked exactly


def square(size=32, box=(8, 24)):
    prob = np.zeros((size, size), np.float32)
    prob[box[0] : box[1], box[0] : box[1]] = 0.9
    return prob


def test_a_small_blob_is_dropped_and_a_big_one_kept():
    prob = square()
    prob[1:4, 27:30] = 0.9  # 9 px of 1024: under 1 %
    prob[26:30, 1:4] = 0.9  # 12 px: over 1 %
    mask, empty = clean_mask(prob, CleanupConfig(radius=0, sigma=0.0))  # no morphology: only the size test
    assert not empty
    assert mask[1:4, 27:30].max() == 0
    assert mask[26:30, 1:4].min() == 1
    assert mask[8:24, 8:24].min() == 1


def test_a_one_pixel_hole_is_closed_and_a_thin_spur_opened_away():
    prob = square()
    prob[15, 15] = 0.0  # hole
    prob[15, 24:31] = 0.9  # 1-px line sticking out
    mask, _ = clean_mask(prob, HARD)
    assert mask[15, 15] == 1
    assert mask[15, 26:31].max() == 0
    assert mask[8:24, 8:24].sum() >= 16 * 16 - 4  # the square stays (the disk may round its corners)


def test_below_threshold_is_background_and_the_blur_softens_the_edge():
    prob = square()
    prob[prob == 0] = 0.44  # just under the 0.45 threshold
    mask, _ = clean_mask(prob, CleanupConfig())
    assert mask.dtype == np.float32 and mask.shape == prob.shape
    assert 0 <= mask.min() and mask.max() <= 1
    assert mask[0, 0] < 0.01 and mask[16, 16] > 0.99
    assert 0.1 < mask[16, 8] < 0.9  # the edge is soft


def test_a_region_touching_the_border_is_not_eaten_by_the_morphology():
    mask, empty = clean_mask(np.ones((20, 20)), CleanupConfig(radius=3, sigma=2.0))
    assert not empty
    np.testing.assert_allclose(mask, 1)


def test_nothing_above_threshold_gives_an_all_ones_mask_flagged_empty_and_a_warning():
    mask, empty = clean_mask(np.full((16, 16), 0.1), CleanupConfig())
    assert empty and mask.min() == 1
    with pytest.warns(UserWarning, match="no concept region in 1 of 2 .*indices 1"):
        masks = clean_masks([square(), np.zeros((16, 16))], CleanupConfig(), "test")
    assert masks[1].min() == 1 and masks[0].min() < 0.01


def test_scaled_to_turns_the_paper_pixels_at_512_into_pixels_at_another_size():
    config = CleanupConfig().scaled_to(128)
    assert (config.radius, config.sigma, config.threshold) == (1, 0.5, 0.45)


@pytest.mark.parametrize(
    "kwargs", [{"threshold": 1.5}, {"min_region_fraction": -0.1}, {"radius": -1}, {"radius": 1.5}, {"sigma": -1}]
)
def test_out_of_range_cleanup_options_are_user_errors(kwargs):
    with pytest.raises(UserError, match="out of range"):
        CleanupConfig(**kwargs)


def test_mean_fill_keeps_the_image_under_ones_and_gives_its_mean_under_zeros():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (6, 5, 3), dtype=np.uint8)
    np.testing.assert_array_equal(mean_fill(image, np.ones((6, 5))), image)
    flat = mean_fill(image, np.zeros((6, 5)))
    expected = image.reshape(-1, 3).mean(0).round()
    np.testing.assert_array_equal(flat, np.broadcast_to(expected, image.shape))


def test_mean_fill_blends_linearly_in_the_soft_part():
    image = np.zeros((2, 2, 3), np.uint8)
    image[0, 0] = 200  # mean 50 per channel
    mask = np.array([[0.5, 1.0], [0.0, 0.0]])
    out = mean_fill(image, mask)
    assert out[0, 0, 0] == 125 and out[0, 1, 0] == 0 and out[1, 0, 0] == 50
    assert len(mean_fill_all([image, image], [mask, mask])) == 2
    with pytest.raises(ValueError):
        mean_fill(image, np.ones((3, 2)))
