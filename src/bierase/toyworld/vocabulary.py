"""The toy world's words: attribute values, their synonyms, implicit triggers and
erasure scenarios.

Everything here is data. The renderer draws the attribute *values*; captions
name them with any of their *words* (the first word is the canonical one).
Implicit triggers never name an attribute but always come with it in training
captions, the way many I2P prompts produce nudity without naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

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

# Words the captions use besides attribute words and triggers.
GLUE_WORDS: tuple[str, ...] = (
    "a", "an", "the", "on", "in", "of", "photo", "background", "that", "is", "and", "style",
    "object", "shape", "thing", ",",
)  # fmt: skip


def all_words() -> list[str]:
    """Every word a toy caption can contain, in a fixed order."""
    words: list[str] = []
    for values in ATTRIBUTES.values():
        for synonyms in values.values():
            words.extend(synonyms)
    words.extend(IMPLICIT_TRIGGERS)
    words.extend(GLUE_WORDS)
    return list(dict.fromkeys(words))
