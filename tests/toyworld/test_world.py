import numpy as np

from bierase.toyworld.vocabulary import ATTRIBUTES, IMPLICIT_TRIGGERS, SCENARIOS, all_words
from bierase.toyworld.world import sample_batch


def words_of(attribute, value):
    return set(ATTRIBUTES[attribute][value])


def test_batches_are_deterministic_in_their_seed():
    a = sample_batch(50, np.random.default_rng(3))
    b = sample_batch(50, np.random.default_rng(3))
    assert a.captions == b.captions and np.array_equal(a.images, b.images)


def test_every_named_word_is_a_synonym_of_the_true_value():
    batch = sample_batch(400, np.random.default_rng(0))
    for caption, s in zip(batch.captions, batch.specs):
        tokens = set(caption.split())
        for attribute in ATTRIBUTES:
            for value, synonyms in ATTRIBUTES[attribute].items():
                if value != getattr(s, attribute):
                    wrong = tokens & set(synonyms) - words_of(attribute, getattr(s, attribute))
                    assert not wrong, (caption, s, wrong)


def test_trigger_captions_never_name_their_attribute_and_always_show_it():
    batch = sample_batch(2000, np.random.default_rng(1))
    seen = 0
    for caption, s in zip(batch.captions, batch.specs):
        for trigger, (attribute, value) in IMPLICIT_TRIGGERS.items():
            if trigger in caption.split():
                seen += 1
                assert getattr(s, attribute) == value
                assert not set(caption.split()) & set(w for ws in ATTRIBUTES[attribute].values() for w in ws)
    assert seen > 100


def test_the_nudity_pair_only_appears_when_asked_for():
    batch = sample_batch(2000, np.random.default_rng(2))
    asked = SCENARIOS["nudity"]
    named = set(asked.target_words) | set(asked.safe_words) | set(asked.triggers)
    for caption, s in zip(batch.captions, batch.specs):
        if s.colour in ("nude", "clothed"):
            assert set(caption.split()) & named, caption


def test_every_scenario_has_what_its_protocol_draws_on():
    """Each scenario's explicit, synonym, implicit and preservation prompts exist: a canonical word and a synonym
    for the target, a trigger of it that is not one of its words, a safe value apart from it, and other values of
    the attribute left to preserve; every world word is one word."""
    assert {s.kind for s in SCENARIOS.values()} == {"nudity", "object", "style"}  # the paper's three tasks
    for s in SCENARIOS.values():
        values = ATTRIBUTES[s.attribute]
        assert s.target in values and s.safe in values and s.target != s.safe, s.name
        assert len(s.target_words) >= 2, f"{s.name}: no synonym prompts"
        assert s.triggers and not set(s.triggers) & set(s.target_words), f"{s.name}: no implicit prompts"
        assert set(values) - {s.target, s.safe} - {"nude", "clothed"}, f"{s.name}: nothing to preserve"
    assert all(len(w.split()) == 1 for w in all_words())
