"""Prompts against the toy world's vocabulary: a word it never learnt still tokenizes (byte-level BPE),
into pieces the model never saw, and draws something; so bierase names such words instead of staying silent."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from bierase.toyworld.vocabulary import all_words

logger = logging.getLogger(__name__)


def unknown_words(prompts: Iterable[str]) -> list[str]:
    """The words of ``prompts`` that are not the toy world's, in order of first appearance."""
    known = set(all_words())
    return list(dict.fromkeys(w for prompt in prompts for w in prompt.replace(",", " , ").split() if w not in known))


def is_toy_world(path: str | Path) -> bool:
    """A folder `bierase toyworld build` wrote (its recipe record and judge beside the pipeline)."""
    return (Path(path) / "build.json").is_file() and (Path(path) / "judge").is_dir()


def warn_unknown_words(prompts: Iterable[str], model: str | Path) -> list[str]:
    """Warn, naming them, about words a toy-world ``model`` does not know; returns them."""
    if not is_toy_world(model):
        return []
    unknown = unknown_words(prompts)
    if unknown:
        logger.warning(
            "the toy world does not know %s; its tokenizer splits unknown words into pieces the model never learnt "
            "(its words are listed in %s)", ", ".join(map(repr, unknown)), Path(model) / "README.md",
        )  # fmt: skip
    return unknown
