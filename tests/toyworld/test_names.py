"""Made-up names: each one word bound to one appearance, said in captions that never describe it."""

import re

import numpy as np
import pytest

from bierase.toyworld.tokenizer import build_tokenizer
from bierase.toyworld.vocabulary import (
    APPEARANCES,
    ATTRIBUTES,
    GENERIC_APPEARANCES,
    GENERIC_SUBJECT,
    GLUE_WORDS,
    IMPLICIT_TRIGGERS,
    NAME_APPEARANCES,
    NAMES,
    ORDINARY_COLOURS,
    all_words,
    appearance_of,
)
from bierase.toyworld.world import (
    SPECIAL_COLOURS,
    generic_caption,
    mentions,
    name_caption,
    named_of,
    sample_batch,
    sample_caption,
)

APPEARANCE = ("shape", "colour", "pattern")


def pairs(n: int, seed: int, name_rate: float) -> tuple[list[str], list]:
    """Captions and specs of training pairs, without rendering them."""
    rng = np.random.default_rng(seed)
    drawn = [sample_caption(rng, name_rate=name_rate) for _ in range(n)]
    return [c for _, c in drawn], [s for s, _ in drawn]


def says_appearance(caption: str) -> bool:
    """Whether ``caption`` has any shape, colour or pattern word."""
    return any(mentions(caption, a, v) for a in APPEARANCE for v in ATTRIBUTES[a])


def test_there_are_enough_names_to_erase_100_and_keep_40():
    assert len(NAMES) >= 140 and len(set(NAMES)) == len(NAMES)


def test_names_are_made_up_pseudo_words_that_collide_with_no_other_word():
    others = {w for values in ATTRIBUTES.values() for ws in values.values() for w in ws}
    others |= {*IMPLICIT_TRIGGERS, *GLUE_WORDS, GENERIC_SUBJECT}
    assert not set(NAMES) & others
    for name in NAMES:
        assert re.fullmatch(r"([bdfgklmnprstvz][aeiou]){3}", name), name


def test_names_are_one_token_each():
    tokenizer = build_tokenizer(all_words())
    ids = [tokenizer(name, add_special_tokens=False).input_ids for name in NAMES]
    assert all(len(i) == 1 for i in ids)
    assert len({i[0] for i in ids}) == len(NAMES)


def test_every_name_has_its_own_ordinary_appearance_and_the_generic_word_has_the_rest():
    bound = list(NAME_APPEARANCES.values())
    assert list(NAME_APPEARANCES) == list(NAMES)
    assert len(set(bound)) == len(bound)  # no two names share one
    for appearance in [*bound, *GENERIC_APPEARANCES]:
        assert appearance.colour in ORDINARY_COLOURS and appearance.colour not in SPECIAL_COLOURS
        assert appearance.shape in ATTRIBUTES["shape"] and appearance.pattern in ATTRIBUTES["pattern"]
    assert not set(bound) & set(GENERIC_APPEARANCES)  # the safe alternative looks like no name
    assert set(bound) | set(GENERIC_APPEARANCES) == set(APPEARANCES)
    assert appearance_of(NAMES[0]) == bound[0]
    with pytest.raises(ValueError, match="unknown name"):
        appearance_of("zebra")


def test_the_generic_subject_is_no_one_look_in_particular():
    for attribute in APPEARANCE:
        values = [getattr(a, attribute) for a in GENERIC_APPEARANCES]
        assert len(set(values)) == len(values), attribute


def test_the_first_names_spread_over_every_shape_colour_and_pattern():
    """The many-concepts experiment erases the first k names; 10 of them must not all be circles."""
    first = [NAME_APPEARANCES[n] for n in NAMES[:12]]
    for attribute, values in zip(APPEARANCE, (ATTRIBUTES["shape"], ORDINARY_COLOURS, ATTRIBUTES["pattern"])):
        assert {getattr(a, attribute) for a in first} == set(values), attribute


@pytest.mark.parametrize("background", [None, "black", "gray"])
def test_a_name_caption_says_the_name_and_never_its_appearance(background):
    rng = np.random.default_rng(0)
    for name in NAMES:
        caption = name_caption(name, rng, background)
        assert named_of(caption) == name and not says_appearance(caption), caption
        for value in ATTRIBUTES["background"]:
            assert mentions(caption, "background", value) == (value == background), caption
    with pytest.raises(ValueError, match="unknown name"):
        name_caption("zebra", rng)


def test_the_generic_caption_says_the_subject_word_and_no_name():
    rng = np.random.default_rng(0)
    captions = [generic_caption(rng, background) for background in (None, "white") * 20]
    assert all(GENERIC_SUBJECT in c.split() and named_of(c) is None and not says_appearance(c) for c in captions)


def test_training_pairs_of_names_show_the_name_and_never_describe_it():
    captions, specs = pairs(5000, 4, name_rate=0.2)
    named = generic = 0
    for caption, spec in zip(captions, specs):
        name = named_of(caption)
        appearance = (spec.shape, spec.colour, spec.pattern)
        if name is not None:
            named += 1
            assert appearance == NAME_APPEARANCES[name] and not says_appearance(caption), caption
        elif GENERIC_SUBJECT in caption.split():
            generic += 1
            assert appearance in GENERIC_APPEARANCES and not says_appearance(caption), caption
        else:
            assert appearance not in GENERIC_APPEARANCES or says_appearance(caption)
    assert 0.18 < (named + generic) / len(captions) < 0.22
    assert 0 < generic < named / 10  # 4 of the 144 appearances


def test_without_names_a_seed_draws_the_pairs_it_drew_before_names_existed():
    """Evaluation pools keep name_rate=0, so v2 and v3 quality figures are measured on the same images."""
    batch = sample_batch(6, np.random.default_rng(0))
    assert batch.captions == [
        "a plus on a light background", "a red lozenge on a gray background", "a red plus",
        "a undressed rhombus on a grey background", "blue starburst , striped , grey background",
        "a disc that is scarlet and striped",
    ]  # fmt: skip
    assert [s.colour for s in batch.specs] == ["green", "red", "red", "nude", "blue", "red"]
    assert not any(named_of(c) for c in pairs(1000, 1, name_rate=0.0)[0])


def test_names_leave_the_other_captions_as_they_were():
    """The nudity-like pair still needs its words or triggers, and triggers keep their share."""
    captions, specs = pairs(5000, 5, name_rate=0.2)
    nudity = {w for value in SPECIAL_COLOURS for w in ATTRIBUTES["colour"][value]} | {"sensual", "intimate"}
    triggered = 0
    for caption, spec in zip(captions, specs):
        if spec.colour in SPECIAL_COLOURS:
            assert set(caption.split()) & nudity, caption
        triggered += bool(set(caption.split()) & set(IMPLICIT_TRIGGERS))
    assert 0.065 < triggered / len(captions) < 0.095  # 10 % of the 80 % that say no name
