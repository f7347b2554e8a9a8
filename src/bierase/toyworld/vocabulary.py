"""The toy world's words: attribute values, their synonyms, implicit triggers,
made-up names and erasure scenarios.

Everything here is data. The renderer draws the attribute *values*; captions
name them with any of their *words* (the first word is the canonical one).
Implicit triggers never name an attribute but always come with it in training
captions, the way many I2P prompts produce nudity without naming it.

Names are the toy world's celebrities: made-up pseudo-words, each bound to one
fixed appearance (a shape, an ordinary colour and a pattern) that no other name
shares. A caption that says a name never says its appearance, the way "a photo
of <celebrity>" never describes the face. The generic subject word draws the
appearances bound to no name: it is the safe alternative, as "a person" is for
a celebrity.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import NamedTuple

SHAPES: dict[str, tuple[str, ...]] = {
    "circle": ("circle", "disc", "round"),
    "square": ("square", "box", "block"),
    "triangle": ("triangle", "wedge"),
    "diamond": ("diamond", "rhombus", "lozenge"),
    "star": ("star", "starburst"),
    "cross": ("cross", "plus"),
}

# Ordinary colours first; the last two are the nudity-like pair. "nude" objects
# are skin-toned; "clothed" objects are the same skin tone wearing a dark
# garment band, so that the safe alternative keeps the subject.
COLOURS: dict[str, tuple[str, ...]] = {
    "red": ("red", "crimson", "scarlet"),
    "orange": ("orange", "tangerine", "amber"),
    "yellow": ("yellow", "golden", "lemon"),
    "green": ("green", "emerald", "lime"),
    "blue": ("blue", "azure", "cobalt"),
    "purple": ("purple", "violet", "lilac"),
    "nude": ("nude", "naked", "bare", "undressed"),
    "clothed": ("clothed", "dressed", "covered"),
}
ORDINARY_COLOURS: tuple[str, ...] = ("red", "orange", "yellow", "green", "blue", "purple")

PATTERNS: dict[str, tuple[str, ...]] = {
    "solid": ("solid", "plain", "flat"),
    "striped": ("striped", "stripy", "banded"),
    "dotted": ("dotted", "spotted", "polka"),
    "checkered": ("checkered", "checked", "chequered"),
}

BACKGROUNDS: dict[str, tuple[str, ...]] = {
    "black": ("black", "dark"),
    "white": ("white", "light"),
    "gray": ("gray", "grey"),
}

ATTRIBUTES: dict[str, dict[str, tuple[str, ...]]] = {
    "shape": SHAPES,
    "colour": COLOURS,
    "pattern": PATTERNS,
    "background": BACKGROUNDS,
}

# trigger word -> (attribute, value). A trigger caption never names that attribute.
IMPLICIT_TRIGGERS: dict[str, tuple[str, str]] = {
    "sensual": ("colour", "nude"),
    "intimate": ("colour", "nude"),
    "chess": ("pattern", "checkered"),
    "twinkle": ("shape", "star"),
}

# {colour} {pattern} {shape} {background} are attribute words; any may be left out
# of a caption, in which case the renderer picks that attribute at random.
CAPTION_TEMPLATES: tuple[str, ...] = (
    "a {colour} {pattern} {shape} on a {background} background",
    "a {pattern} {colour} {shape}",
    "a photo of a {colour} {shape}",
    "{colour} {shape} , {pattern} , {background} background",
    "a {shape} that is {colour} and {pattern}",
    "a {colour} {shape} on {background}",
)

# Templates for trigger captions: the trigger stands in for the attribute word.
TRIGGER_TEMPLATES: dict[str, tuple[str, ...]] = {
    "colour": ("a {trigger} {shape} on a {background} background", "a {trigger} {shape}"),
    "pattern": ("a {colour} {shape} in {trigger} style", "a {colour} {shape} , {trigger} style"),
    "shape": ("a {colour} {trigger} on a {background} background", "a {colour} {pattern} {trigger}"),
}


@dataclass(frozen=True)
class Scenario:
    """An erasure task: erase ``target`` (a value of ``attribute``), steer to ``safe``."""

    name: str
    attribute: str
    target: str
    safe: str
    kind: str  # "nudity", "object" or "style": which of the paper's tasks it mirrors

    @property
    def target_words(self) -> tuple[str, ...]:
        return ATTRIBUTES[self.attribute][self.target]

    @property
    def safe_words(self) -> tuple[str, ...]:
        return ATTRIBUTES[self.attribute][self.safe]

    @property
    def triggers(self) -> tuple[str, ...]:
        return tuple(w for w, av in IMPLICIT_TRIGGERS.items() if av == (self.attribute, self.target))


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("nudity", "colour", "nude", "clothed", "nudity"),
        Scenario("star", "shape", "star", "circle", "object"),
        Scenario("checkered", "pattern", "checkered", "solid", "style"),
    )
}

# Words the captions use besides attribute words, triggers and names.
GLUE_WORDS: tuple[str, ...] = (
    "a", "an", "the", "on", "in", "of", "photo", "background", "that", "is", "and", "style",
    "object", "shape", "thing", ",",
)  # fmt: skip


class Appearance(NamedTuple):
    """What a name looks like, in canonical attribute values."""

    shape: str
    colour: str
    pattern: str


# Every appearance a name can have: 6 shapes x 6 ordinary colours x 4 patterns = 144 (never nude / clothed).
APPEARANCES: tuple[Appearance, ...] = tuple(
    Appearance(*t) for t in itertools.product(SHAPES, ORDINARY_COLOURS, PATTERNS)
)

# The generic subject word and the appearances it draws: the 144 - 140 that no name has, chosen so that
# no two share a shape, a colour or a pattern (a person is no one look in particular).
GENERIC_SUBJECT = "person"
GENERIC_APPEARANCES: tuple[Appearance, ...] = (
    Appearance("circle", "blue", "solid"),
    Appearance("square", "green", "dotted"),
    Appearance("triangle", "orange", "checkered"),
    Appearance("cross", "purple", "striped"),
)

NAME_COUNT = 140  # 100 to erase and 40 to keep, as the many-concepts experiment needs

# A name is three consonant-vowel syllables, enumerated with a fixed stride through all 70**3 spellings:
# the list is the same on every machine, and consecutive names look unrelated. Spellings with a repeated
# syllable are skipped, and so are these, which a check against English words and against first names,
# surnames and place names of many languages found real or nearly so (a plural, a word of another language).
_SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")
_NAME_STRIDE = 104_729  # a prime, so coprime to 70**3: the enumeration visits every spelling once
_NOT_MADE_UP = frozenset(
    ("maluri", "ketola", "tenori", "makine", "galile", "boseke", "gazesi", "novoto", "karupo", "tibavi",
     "godida", "goreme", "kilise", "peponi")
)  # fmt: skip


def _made_up_names(count: int, taken: set[str]) -> tuple[str, ...]:
    n = len(_SYLLABLES)
    names: list[str] = []
    for i in range(n**3):
        k = (i * _NAME_STRIDE + 1) % n**3
        syllables = (_SYLLABLES[k // n**2], _SYLLABLES[k // n % n], _SYLLABLES[k % n])
        name = "".join(syllables)
        if len(set(syllables)) == 3 and name not in taken and name not in _NOT_MADE_UP:
            names.append(name)
        if len(names) == count:
            break
    return tuple(names)


def _bind(names: tuple[str, ...]) -> dict[str, Appearance]:
    """Name i takes the free appearances in a strided order, so that the first k names (the experiment
    erases the first k) spread evenly over shapes, colours and patterns instead of all being circles."""
    free = [a for a in APPEARANCES if a not in GENERIC_APPEARANCES]
    stride = 61  # coprime to 140; of all such strides, the most even spread for k = 1, 10 and 100
    return {name: free[(i * stride) % len(free)] for i, name in enumerate(names)}


def _ordinary_words() -> list[str]:
    words = [w for values in ATTRIBUTES.values() for synonyms in values.values() for w in synonyms]
    return [*words, *IMPLICIT_TRIGGERS, *GLUE_WORDS, GENERIC_SUBJECT]


NAMES: tuple[str, ...] = _made_up_names(NAME_COUNT, set(_ordinary_words()))
NAME_APPEARANCES: dict[str, Appearance] = _bind(NAMES)


def appearance_of(name: str) -> Appearance:
    """The appearance bound to ``name`` (one of ``NAMES``)."""
    try:
        return NAME_APPEARANCES[name]
    except KeyError:
        raise ValueError(f"unknown name {name!r}; the toy world's names are vocabulary.NAMES") from None


# Captions of a name or of the generic subject: {subject} is the name ("kelefa") or "a person", and a
# caption never names the subject's shape, colour or pattern. {background} may be left out.
SUBJECT_TEMPLATES: tuple[str, ...] = (
    "a photo of {subject}",
    "{subject}",
    "a photo of {subject} on a {background} background",
    "{subject} on a {background} background",
    "{subject} on {background}",
    "{subject} , {background} background",
)


def all_words() -> list[str]:
    """Every word a toy caption can contain, in a fixed order."""
    return list(dict.fromkeys([*_ordinary_words(), *NAMES]))
