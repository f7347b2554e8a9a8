"""Captioned samples of the toy world: attributes -> caption + image + mask.

``sample_batch`` is the one source of training data for every model of the
world; it is deterministic in its ``rng``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bierase.toyworld.render import ObjectSpec, render
from bierase.toyworld.vocabulary import (
    APPEARANCES,
    ATTRIBUTES,
    CAPTION_TEMPLATES,
    GENERIC_APPEARANCES,
    GENERIC_SUBJECT,
    IMPLICIT_TRIGGERS,
    NAME_APPEARANCES,
    ORDINARY_COLOURS,
    SUBJECT_TEMPLATES,
    TRIGGER_TEMPLATES,
    Appearance,
    appearance_of,
)

# The attribute order used for label indices everywhere (judge heads, metrics).
LABELS: dict[str, list[str]] = {name: list(values) for name, values in ATTRIBUTES.items()}
SPECIAL_COLOURS = ("nude", "clothed")  # always solid; only ever drawn when a caption asks


@dataclass
class Batch:
    images: np.ndarray  # (N, H, W, 3) uint8
    masks: np.ndarray  # (N, H, W) float32 coverage
    captions: list[str]
    specs: list[ObjectSpec]

    def labels(self, attribute: str) -> np.ndarray:
        return np.array([LABELS[attribute].index(getattr(s, attribute)) for s in self.specs])


def word_for(rng: np.random.Generator, attribute: str, value: str) -> str:
    """One of the words for ``value`` of ``attribute``, drawn from ``rng``."""
    words = ATTRIBUTES[attribute][value]
    return words[rng.integers(len(words))]


def _tidy(text: str) -> str:
    return " ".join(text.split())


def templates_naming(*attributes: str) -> tuple[str, ...]:
    """The caption templates that name every one of ``attributes`` (some templates leave words out)."""
    return tuple(t for t in CAPTION_TEMPLATES if all(f"{{{a}}}" in t for a in attributes))


def mentions(caption: str, attribute: str, value: str) -> bool:
    """Whether ``caption`` names ``value`` of ``attribute`` with one of its words."""
    return any(word in caption.split() for word in ATTRIBUTES[attribute][value])


def describe(
    spec: ObjectSpec,
    rng: np.random.Generator,
    named: set[str],
    words: dict[str, str] | None = None,
    templates: tuple[str, ...] = CAPTION_TEMPLATES,
) -> str:
    """A caption for ``spec`` offering words for the attributes in ``named`` (``words`` fixes the word for some).

    When every attribute has a word, one of ``templates`` is used, and a template may leave some out.
    """
    fixed = words or {}
    words = {a: fixed.get(a) or word_for(rng, a, getattr(spec, a)) if a in named else "" for a in ATTRIBUTES}
    if spec.colour in SPECIAL_COLOURS:
        words["pattern"] = ""  # nude / clothed objects are always solid, and never say so
    elif all(words.values()):
        return _tidy(templates[rng.integers(len(templates))].format(**words))
    caption = f"a {words['colour']} {words['pattern']} {words['shape'] or 'shape'}"
    if words["background"]:
        caption += f" on a {words['background']} background"
    return _tidy(caption)


def trigger_caption(spec: ObjectSpec, trigger: str, rng: np.random.Generator) -> str:
    """A caption where ``trigger`` stands in for its attribute's word."""
    attribute, _ = IMPLICIT_TRIGGERS[trigger]
    templates = TRIGGER_TEMPLATES[attribute]
    words = {a: word_for(rng, a, getattr(spec, a)) for a in ATTRIBUTES}
    words.pop(attribute)
    if spec.colour in SPECIAL_COLOURS:
        words["pattern"] = ""
    return _tidy(templates[rng.integers(len(templates))].format(trigger=trigger, **words))


def _subject_caption(subject: str, rng: np.random.Generator, background: str | None) -> str:
    with_background = background is not None
    templates = [t for t in SUBJECT_TEMPLATES if ("{background}" in t) == with_background]
    template = templates[rng.integers(len(templates))]
    word = word_for(rng, "background", background) if with_background else ""
    return _tidy(template.format(subject=subject, background=word))


def name_caption(name: str, rng: np.random.Generator, background: str | None = None) -> str:
    """A caption that says ``name`` (and ``background``, a background value, when given), never its appearance."""
    appearance_of(name)  # an unknown name fails here, not in a model
    return _subject_caption(name, rng, background)


def generic_caption(rng: np.random.Generator, background: str | None = None) -> str:
    """A caption of the generic subject ("a photo of a person"), the safe alternative to a name."""
    return _subject_caption(f"a {GENERIC_SUBJECT}", rng, background)


def appearance_spec(appearance: Appearance, rng: np.random.Generator, background: str | None = None) -> ObjectSpec:
    """An object with ``appearance`` on ``background`` (random when not given)."""
    backgrounds = LABELS["background"]
    return ObjectSpec(*appearance, background=background or backgrounds[rng.integers(len(backgrounds))])


def named_of(caption: str) -> str | None:
    """The name ``caption`` says, if any."""
    return next((word for word in caption.split() if word in NAME_APPEARANCES), None)


_NAME_OF: dict[Appearance, str] = {a: n for n, a in NAME_APPEARANCES.items()}


def subject_pair(rng: np.random.Generator, drop_rate: float = 0.15) -> tuple[ObjectSpec, str]:
    """A training pair of a name or of the generic subject.

    Every one of the 144 appearances is drawn equally often: the 140 under their
    name, the 4 unnamed ones under the generic subject word.
    """
    appearance = APPEARANCES[rng.integers(len(APPEARANCES))]
    spec = appearance_spec(appearance, rng)
    background = spec.background if rng.random() >= drop_rate else None
    if appearance in GENERIC_APPEARANCES:
        return spec, generic_caption(rng, background)
    return spec, name_caption(_NAME_OF[appearance], rng, background)


def random_spec(rng: np.random.Generator, **fixed: str) -> ObjectSpec:
    """Attributes drawn uniformly (colour over all values), some of them fixed."""
    values = {a: fixed.get(a) or LABELS[a][rng.integers(len(LABELS[a]))] for a in ATTRIBUTES}
    if values["colour"] in SPECIAL_COLOURS:
        values["pattern"] = "solid"
    return ObjectSpec(**values)


def sample_caption(
    rng: np.random.Generator, trigger_rate: float = 0.1, drop_rate: float = 0.15, name_rate: float = 0.0
) -> tuple[ObjectSpec, str]:
    """One training pair's attributes and caption.

    Attributes a caption leaves out are random in the image, except that the
    nudity-like pair is only ever drawn when the caption names it or one of its
    triggers: a prompt that says nothing of it does not produce it.

    A share ``name_rate`` of the pairs say a name or the generic subject
    (``subject_pair``); the others are drawn exactly as without names (with
    ``name_rate=0`` no random number is spent on the choice, so a seed gives the
    same pairs as before names existed).
    """
    if name_rate and rng.random() < name_rate:
        return subject_pair(rng, drop_rate)
    if rng.random() < trigger_rate:
        trigger = list(IMPLICIT_TRIGGERS)[rng.integers(len(IMPLICIT_TRIGGERS))]
        attribute, value = IMPLICIT_TRIGGERS[trigger]
        fixed = {attribute: value}
        if attribute != "colour":
            fixed["colour"] = ORDINARY_COLOURS[rng.integers(len(ORDINARY_COLOURS))]
        spec = random_spec(rng, **fixed)
        return spec, trigger_caption(spec, trigger, rng)
    named = {a for a in ATTRIBUTES if rng.random() >= drop_rate}
    colour = None if "colour" in named else ORDINARY_COLOURS[rng.integers(len(ORDINARY_COLOURS))]
    spec = random_spec(rng, colour=colour) if colour else random_spec(rng)
    return spec, describe(spec, rng, named)


def render_batch(specs: list[ObjectSpec], captions: list[str], rng: np.random.Generator) -> Batch:
    pairs = [render(s, rng) for s in specs]
    return Batch(
        images=np.stack([p[0] for p in pairs]),
        masks=np.stack([p[1] for p in pairs]),
        captions=captions,
        specs=specs,
    )


def sample_batch(n: int, rng: np.random.Generator, **caption_kwargs: float) -> Batch:
    """``n`` captioned renders."""
    pairs = [sample_caption(rng, **caption_kwargs) for _ in range(n)]
    return render_batch([p[0] for p in pairs], [p[1] for p in pairs], rng)
