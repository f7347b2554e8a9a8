"""The quality protocol's prompt sets ask for what they score."""

from bierase.toyworld.quality import PROMPTED, prompted_set
from bierase.toyworld.world import SPECIAL_COLOURS, mentions


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
