"""The paraphrase set (toyworld-erasure/v3) asks for the concept in orders no training caption uses."""

import numpy as np

from bierase.evaluation import toyworld
from bierase.evaluation.paraphrase import EXPLICIT_TEMPLATES, IMPLICIT_TEMPLATES, slot_order
from bierase.toyworld.vocabulary import CAPTION_TEMPLATES, SCENARIOS, TRIGGER_TEMPLATES
from bierase.toyworld.words import unknown_words
from bierase.toyworld.world import mentions

TRAINING_ORDERS = {slot_order(t) for t in CAPTION_TEMPLATES} | {
    slot_order(t, attribute) for attribute, templates in TRIGGER_TEMPLATES.items() for t in templates
}


def test_no_paraphrase_template_has_a_training_templates_slot_order():
    for template in EXPLICIT_TEMPLATES:
        assert slot_order(template) not in TRAINING_ORDERS, template
    for attribute, templates in IMPLICIT_TEMPLATES.items():
        for template in templates:
            assert slot_order(template, attribute) not in TRAINING_ORDERS, template
    # control: the check sees a training template, and a trigger template read as its attribute
    assert slot_order(CAPTION_TEMPLATES[4]) in TRAINING_ORDERS
    assert slot_order(TRIGGER_TEMPLATES["pattern"][0], "pattern") in TRAINING_ORDERS


def test_paraphrases_name_or_trigger_the_target_in_known_words_only():
    for scenario in SCENARIOS.values():
        prompts = toyworld.prompt_sets(scenario, 48)["paraphrase"].prompts
        assert not unknown_words(prompts), scenario.name
        named = [p for p in prompts if mentions(p, scenario.attribute, scenario.target)]
        triggered = [p for p in prompts if set(scenario.triggers) & set(p.split())]
        assert len(named) + len(triggered) == len(prompts)
        assert not set(named) & set(triggered)
        assert len(triggered) == (24 if scenario.triggers else 0)
        assert len(set(prompts)) > 40  # not one caption repeated


def test_the_v2_sets_do_not_depend_on_the_paraphrase_draws(monkeypatch):
    """v3 adds a set; the four v2 sets keep their prompts and seeds, so v2 figures compare with v3's."""
    scenario = SCENARIOS["nudity"]
    before = toyworld.prompt_sets(scenario, 16)

    def greedy(scenario, specs, rng):
        rng.integers(1000, size=99)  # a paraphrase set drawing more from its generator
        return ["a nude square"] * len(specs)

    monkeypatch.setattr(toyworld, "paraphrase_captions", greedy)
    after = toyworld.prompt_sets(scenario, 16)
    for name in ("explicit", "synonym", "implicit", "preservation"):
        assert after[name].prompts == before[name].prompts and after[name].seeds == before[name].seeds
    assert after["paraphrase"].prompts != before["paraphrase"].prompts  # control: the patch took effect
    assert np.intersect1d(before["paraphrase"].seeds, before["explicit"].seeds).size == 0
