"""Every option of a UCE run, validated before any model loads.

Field names follow diffusers' training scripts where one exists
(``pretrained_model_name_or_path``, ``output_dir``, ``seed``); the shared ones
mean what they mean for Bi-Erasing, so the CLI flags and ``--config`` YAML keys
are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from bierase.erasing.options import RunConfig, option
from bierase.errors import UserError

# Which text-encoder output vectors of a prompt are edited (see bierase.methods.uce.method).
TOKEN_SPANS = ("all", "words_eos")


def split_concepts(items: list[str]) -> list[str]:
    """``["nudity, naked", "nude"]`` -> ``["nudity", "naked", "nude"]``: UCE's items may each be comma-separated,
    as its ``--concept`` always was (empty parts dropped)."""
    return [part.strip() for text in items for part in text.split(",") if part.strip()]


@dataclass
class UCEConfig(RunConfig):
    HELP_COMMAND = "bierase erase --method uce --help"
    concept: list[str] = option(
        "the concept(s) to erase, e.g. 'nudity' 'naked' (an item may also be comma-separated: 'nudity, naked')",
        default_factory=list, one_or_many=True,
    )  # fmt: skip
    positive_concept: list[str] = option(
        "the guide each erased concept is mapped to; none (or '') erases to the empty prompt; one guide for all "
        "concepts, or one per concept",
        default_factory=list, one_or_many=True,
    )  # fmt: skip
    preserve_concepts: list[str] = option("concepts whose key/value outputs are kept", default_factory=list)
    erase_scale: float = option("weight of the erase term of the UCE objective", default=1.0, low=0)
    preserve_scale: float = option("weight (lambda) of the preserve term of the UCE objective", default=1.0, low=0)
    tokens: str = option(
        "text-encoder vectors edited per prompt ('all': words, EOS and the padding after it; 'words_eos': words and "
        "EOS); on SDXL a vector is both encoders' states of the position, concatenated (the encoded '' is the "
        "default guide there too, not SDXL's zeros for an absent negative prompt)",
        default="all", choices=TOKEN_SPANS,
    )  # fmt: skip

    def validate(self) -> None:
        super().validate()
        if self.erase_scale == 0:
            raise UserError("--erase_scale is 0, so nothing would be erased; give it a weight > 0 (default 1.0)")
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
        super().require_run_fields()
        if not split_concepts(self.concept):
            raise UserError(f"--concept {self.concept!r} names no concept; e.g. --concept 'nudity'")
        self.check_items("concept", split_concepts(self.concept))

    def concepts(self) -> list[str]:
        return split_concepts(self.concept)

    def guides(self) -> list[str]:
        """One guide per erased concept ('' is the empty prompt)."""
        concepts, guides = self.concepts(), split_concepts(self.positive_concept)
        return guides if len(guides) > 1 else [guides[0] if guides else ""] * len(concepts)
