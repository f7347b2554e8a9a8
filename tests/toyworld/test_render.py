import numpy as np
import pytest

from bierase.toyworld.render import IMAGE_SIZE, RGB, ObjectSpec, render


def spec(**kw):
    return ObjectSpec(**{"shape": "circle", "colour": "red", "pattern": "solid", "background": "black", **kw})


def test_same_seed_same_image_other_seed_other_placement():
    a, _ = render(spec(), np.random.default_rng(1))
    b, _ = render(spec(), np.random.default_rng(1))
    c, _ = render(spec(), np.random.default_rng(2))
    assert a.shape == (IMAGE_SIZE, IMAGE_SIZE, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_mask_covers_exactly_the_object_pixels():
    image, mask = render(spec(background="black"), np.random.default_rng(0))
    full = mask == 1.0
    empty = mask == 0.0
    assert full.sum() > 100 and empty.sum() > 100
    assert np.all(image[full] == RGB["red"])
    assert np.all(image[empty] == RGB["black"])


@pytest.mark.parametrize(
    "attribute,values",
    [("shape", ["circle", "square", "star", "cross"]), ("pattern", ["solid", "striped", "dotted", "checkered"])],
)
def test_attribute_values_draw_differently(attribute, values):
    images = [render(spec(**{attribute: v}), np.random.default_rng(0))[0] for v in values]
    for i in range(len(images)):
        for j in range(i + 1, len(images)):
            assert np.abs(images[i].astype(int) - images[j].astype(int)).sum() > 1000, (values[i], values[j])


def test_clothed_differs_from_nude_only_by_the_garment():
    nude, mask = render(spec(colour="nude"), np.random.default_rng(0))
    clothed, _ = render(spec(colour="clothed"), np.random.default_rng(0))
    changed = np.any(nude != clothed, axis=-1)
    assert changed.sum() > 50
    assert np.all(mask[changed] > 0)  # the garment lies on the object, never on the background


def test_unknown_value_is_rejected():
    with pytest.raises(ValueError, match="shape"):
        spec(shape="hexagon")
