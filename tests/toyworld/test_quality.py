"""The quality protocol's prompt sets ask for what they score."""

from collections import Counter

from bierase.toyworld.quality import PROMPTED, Quality, identity_set, prompted_set, shows_appearance
from bierase.toyworld.vocabulary import ATTRIBUTES, NAMES, Appearance
from bierase.toyworld.world import SPECIAL_COLOURS, mentions, named_of


def test_prompted_captions_name_every_scored_attribute():
    specs, prompts = prompted_set(120)
    for spec, prompt in zip(specs, prompts):
        for attribute in PROMPTED:
            if attribute == "pattern" and spec.colour in SPECIAL_COLOURS:
                continue  # never named and never scored: these objects are always solid
            assert mentions(prompt, attribute, getattr(spec, attribute)), (attribute, prompt)


def test_pattern_is_scored_on_as_many_images_as_asked():
    specs, _ = prompted_set(120)
    assert sum(s.colour not in SPECIAL_COLOURS for s in specs) == 120


def test_identity_prompts_cover_every_name_equally_and_never_describe_it():
    names, prompts = identity_set(200)
    assert len(prompts) >= 200 and Counter(names) == {name: len(prompts) // len(NAMES) for name in NAMES}
    for name, prompt in zip(names, prompts):
        assert named_of(prompt) == name
        assert not any(mentions(prompt, a, v) for a in PROMPTED for v in ATTRIBUTES[a]), prompt
    assert len(set(prompts)) > len(NAMES)  # varied templates and backgrounds, not one prompt per name


def test_identity_counts_an_image_right_only_when_shape_colour_and_pattern_all_are():
    truth = [Appearance("star", "red", "dotted")] * 4
    seen = {
        "shape": ["star", "star", "star", "circle"],
        "colour": ["red", "red", "blue", "red"],
        "pattern": ["dotted", "solid", "dotted", "dotted"],
        "background": ["black"] * 4,
    }
    assert shows_appearance(seen, truth).tolist() == [True, False, False, False]


def test_identity_is_required_and_fails_below_its_threshold():
    figures = dict(colour=1.0, shape=1.0, pattern=1.0, triggers=1.0, ip_transfer=1.0, segmenter_iou=1.0, judge=1.0)
    assert Quality.REQUIRED["identity"] == 0.90
    assert Quality(**figures, identity=0.95, samples=200, identity_samples=280).failures() == []
    assert Quality(**figures, identity=0.85, samples=200, identity_samples=280).failures() == ["identity 0.850 < 0.9"]
