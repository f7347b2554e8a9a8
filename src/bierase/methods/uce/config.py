"""Every option of a UCE run, validated before any model loads.

Field names follow diffusers' training scripts where one exists
(``pretrained_model_name_or_path``, ``output_dir``, ``seed``); the shared ones
mean what they mean for Bi-Erasing, so the CLI flags and ``--config`` YAML keys
are the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bierase.erasing.config_file import YamlConfig
from bierase.errors import UserError

# Which text-encoder output vectors of a prompt are edited (see bierase.methods.uce.method).
TOKEN_SPANS = ("all", "words_eos")


def _help(text: str, **kw: Any) -> Any:
    return field(metadata={"help": text}, **kw)


def split_concepts(text: str) -> list[str]:
    """``"nudity, naked"`` -> ``["nudity", "naked"]`` (empty items dropped)."""
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass
class UCEConfig(YamlConfig):
    HELP_COMMAND = "bierase erase --method uce --help"
    pretrained_model_name_or_path: str = _help("pipeline folder (diffusers layout) or hub id", default="")
    concept: str = _help("the concept(s) to erase; several comma-separated, e.g. 'nudity, naked'", default="")
    positive_concept: str = _help(
        "the guide each erased concept is mapped to; '' (the empty prompt) erases to nothing; "
        "one guide for all concepts, or one per concept, comma-separated",
        default="",
    )
    preserve_concepts: list[str] = _help("concepts whose key/value outputs are kept", default_factory=list)
    erase_scale: float = _help("weight of the erase term of the UCE objective", default=1.0)
    preserve_scale: float = _help("weight (lambda) of the preserve term of the UCE objective", default=1.0)
    tokens: str = _help(
        f"text-encoder vectors edited per prompt: one of {', '.join(TOKEN_SPANS)} "
        "('all': words, EOS and the padding after it; 'words_eos': words and EOS)",
        default="all",
    )
    output_dir: str = _help("where the edited UNet, bierase.json and config.yaml go", default="")
    overwrite: bool = _help("replace a different run already in output_dir", default=False)
    seed: int = _help("recorded with the run (the closed-form edit draws nothing at random)", default=0)
    save_pipeline: bool = _help("also write a complete pipeline folder to output_dir/pipeline", default=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if self.tokens not in TOKEN_SPANS:
            raise UserError(f"--tokens {self.tokens!r} is not valid; choose one of {', '.join(TOKEN_SPANS)}")
        for name in ("erase_scale", "preserve_scale"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
                raise UserError(f"--{name} {value!r} is out of range; it must be a number >= 0")
            if value == float("inf"):
                raise UserError(f"--{name} {value!r} is out of range; it must be finite")
        if self.erase_scale == 0:
            raise UserError("--erase_scale is 0, so nothing would be erased; give it a weight > 0 (default 1.0)")
        if not isinstance(self.preserve_concepts, list) or not all(isinstance(p, str) for p in self.preserve_concepts):
            raise UserError(
                f"--preserve_concepts {self.preserve_concepts!r} must be a list of prompts "
                "(on the command line: --preserve_concepts 'a' 'b'; in YAML: a list)"
            )
        concepts = split_concepts(self.concept)
        guides = split_concepts(self.positive_concept)
        if len(guides) > 1 and len(guides) != len(concepts):
            raise UserError(
                f"--positive_concept names {len(guides)} guides for {len(concepts)} concepts; "
                "give one guide for all or one per concept, comma-separated"
            )
        both = sorted(set(concepts) & {p.strip() for p in self.preserve_concepts})
        if both:
            raise UserError(f"{', '.join(map(repr, both))} is both erased and preserved; remove it from one of them")

    def require_run_fields(self) -> None:
        """The fields without which nothing can start (not required to build a config in pieces)."""
        for name in ("pretrained_model_name_or_path", "concept", "output_dir"):
            if not getattr(self, name):
                raise UserError(f"--{name} is required")
        if not split_concepts(self.concept):
            raise UserError(f"--concept {self.concept!r} names no concept; e.g. --concept 'nudity'")

    def concepts(self) -> list[str]:
        return split_concepts(self.concept)

    def guides(self) -> list[str]:
        """One guide per erased concept ('' is the empty prompt)."""
        concepts, guides = self.concepts(), split_concepts(self.positive_concept)
        return guides if len(guides) > 1 else [guides[0] if guides else ""] * len(concepts)
