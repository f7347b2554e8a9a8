"""Every option of a Bi-Erasing run, validated before any model loads.

Field names follow diffusers' training scripts where one exists
(``pretrained_model_name_or_path``, ``output_dir``, ``max_train_steps``, ...).
The same fields are the CLI flags and the keys of ``--config file.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bierase.erasing.config_file import YamlConfig
from bierase.erasing.parameters import TRAIN_METHODS
from bierase.errors import UserError

MASK_SOURCES = ("clipseg", "cross_attention", "none")
ROLLOUTS = ("ddim", "reference")
MIXED_PRECISION = ("no", "bf16", "fp16")
POSITIVE_TEXTS = ("positive", "concept")


def _help(text: str, **kw: Any) -> Any:
    return field(metadata={"help": text}, **kw)


@dataclass
class BiErasingConfig(YamlConfig):
    # what to erase, and from which model
    pretrained_model_name_or_path: str = _help("pipeline folder (diffusers layout) or hub id", default="")
    concept: str = _help("the concept to erase (c_neg), e.g. 'nudity'", default="")
    positive_concept: str = _help("the safe alternative to guide to (c_pos), e.g. 'clothed'", default="")
    output_dir: str = _help("where the erased UNet (or LoRA), bierase.json and config.yaml go", default="")
    ip_adapter: str = _help("IP-Adapter folder or hub id (default: the model folder)", default="")
    ip_adapter_subfolder: str = _help(
        "subfolder of the IP-Adapter weights, e.g. 'models' for h94/IP-Adapter", default=""
    )
    ip_adapter_weight_name: str = _help(
        "IP-Adapter weights file, e.g. ip-adapter_sd15.safetensors", default="ip_adapter.safetensors"
    )
    image_conditioning: bool = _help(
        "condition on reference images through IP-Adapter (off: text only, as ESD)", default=True
    )
    # reference images
    negative_images: str = _help("folder of concept images; generated from the base model when missing", default="")
    positive_images: str = _help("folder of safe-alternative images; generated when missing", default="")
    num_reference_images: int = _help("images per reference set when generated", default=100)
    reference_prompt: str = _help("template for generated references", default="a photo of {concept}")
    reference_steps: int = _help("sampling steps for generated references", default=50)
    reference_guidance_scale: float = _help("guidance for generated references", default=7.5)
    # masks
    mask_source: str = _help(f"one of {', '.join(MASK_SOURCES)}", default="clipseg")
    segmenter: str = _help(
        "CLIPSeg folder or hub id; default: segmenter/ in the model folder, else CIDAS/clipseg-rd64-refined", default=""
    )
    negative_queries: list[str] = _help("segmenter queries for the negative set", default_factory=list)
    positive_queries: list[str] = _help("segmenter queries for the positive set", default_factory=list)
    mask_threshold: float = _help("segmenter probability threshold", default=0.45)
    mask_radius: int = _help("disk radius (px) of the morphological close/open", default=3)
    mask_sigma: float = _help("Gaussian blur (px) that softens the mask", default=2.0)
    # the objective
    lambda_neg: float = _help("weight of the negative (suppress) branch", default=0.6)
    lambda_pos: float = _help("weight of the positive (guide) branch", default=0.4)
    eta_neg: float = _help("guidance strength of the negative target", default=1.0)
    eta_pos: float = _help("guidance strength of the positive target", default=1.0)
    positive_text: str = _help(
        "text of the student's positive branch: 'positive' ([c_pos; I+], the method note) or 'concept' "
        "([c_neg; I+]: the concept's own prompt is steered to the safe alternative)",
        default="positive",
    )
    preserve_prompts: list[str] = _help(
        "prompts the erased model must keep drawing as the base model does; a third term matches the student to "
        "the frozen teacher on them, text only (not in the paper; a retain set as AdvUnlearn's; empty: off)",
        default_factory=list,
    )
    lambda_preserve: float = _help("weight of the preservation term on --preserve_prompts", default=1.0)
    two_stage: float | None = _help(
        "fraction of steps positive-only before negative-only; unset: both every step", default=None
    )
    embedding_noise: float = _help("std of Gaussian noise on image embeddings", default=0.0)
    text_guided_refinement: bool = _help(
        "Co-Erasing's refinement: image tokens re-read through the concept prompt's text tokens "
        "(negative branch only, --lambda_pos 0)",
        default=False,
    )
    # optimisation
    train_method: str = _help(f"parameters to train: one of {', '.join(TRAIN_METHODS)}", default="full")
    lora_rank: int = _help("train a LoRA of this rank (PEFT) instead of the weights; 0: no LoRA", default=0)
    learning_rate: float = _help("Adam learning rate", default=1e-5)
    max_train_steps: int = _help("optimizer steps", default=1000)
    train_batch_size: int = _help("samples per branch per step", default=1)
    seed: int = _help("seed of everything random in the run", default=0)
    mixed_precision: str = _help(f"accelerate mixed precision: {', '.join(MIXED_PRECISION)}", default="no")
    teacher_device: str = _help("device of the frozen teacher (default: the student's)", default="")
    batched_calls: bool = _help(
        "run the 4 teacher and 2 student calls as one batch each (off: one call each, as the reference code)",
        default=True,
    )
    cache_embeddings: bool = _help(
        "encode reference images once (off: re-encode the drawn images every step, as the reference code)", default=True
    )
    gradient_checkpointing: bool = _help(
        "recompute UNet activations in the backward pass to save memory", default=False
    )
    init_unet: str = _help("start from this (already erased) unet/ folder instead of the base UNet", default="")
    # rollout to z_t
    rollout: str = _help(
        "'ddim': T down to t (correct); 'reference': the reference code's ascending loop", default="ddim"
    )
    ddim_steps: int = _help(
        "N: sampling steps of the rollout schedule (the paper's 50; the rollout costs ~N/2 UNet calls a step, "
        "and on the toy world N = 10 erased as well as 50)",
        default=50,
    )
    rollout_steps: int = _help(
        "most UNet calls of a ddim rollout (0: all k steps to the k-th of N); deeper steps are reached by DDIM "
        "jumps over evenly spaced timesteps of the same schedule, ending at the same t (the toy world uses 2)",
        default=0,
    )
    rollout_guidance: float = _help("classifier-free guidance of the rollout (ESD uses 3)", default=3.0)
    # bookkeeping
    checkpointing_steps: int = _help("write a checkpoint every K steps (0: only at the end)", default=100)
    resume: bool = _help("continue from the last checkpoint in output_dir", default=False)
    overwrite: bool = _help("replace a different run already in output_dir", default=False)
    save_pipeline: bool = _help("also write a complete pipeline folder to output_dir/pipeline", default=False)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        def choice(name: str, options: tuple[str, ...]) -> None:
            if getattr(self, name) not in options:
                raise UserError(f"--{name} {getattr(self, name)!r} is not valid; choose one of {', '.join(options)}")

        def at_least(name: str, low: float) -> None:
            if getattr(self, name) < low:
                raise UserError(f"--{name} {getattr(self, name)} is out of range; it must be >= {low}")

        choice("mask_source", MASK_SOURCES)
        choice("positive_text", POSITIVE_TEXTS)
        choice("rollout", ROLLOUTS)
        choice("mixed_precision", MIXED_PRECISION)
        choice("train_method", TRAIN_METHODS)
        for name in ("lambda_neg", "lambda_pos", "lambda_preserve", "eta_neg", "eta_pos", "embedding_noise", "lora_rank",
                     "checkpointing_steps", "mask_radius", "mask_sigma", "rollout_guidance", "rollout_steps"):  # fmt: skip
            at_least(name, 0)
        for name in ("max_train_steps", "train_batch_size", "ddim_steps", "num_reference_images", "reference_steps"):
            at_least(name, 1)
        if self.learning_rate <= 0:
            raise UserError(f"--learning_rate {self.learning_rate} is out of range; it must be > 0")
        if not 0 <= self.mask_threshold <= 1:
            raise UserError(f"--mask_threshold {self.mask_threshold} is out of range; it must be in [0, 1]")
        if self.lambda_neg + self.lambda_pos == 0:
            raise UserError("--lambda_neg and --lambda_pos are both 0, so nothing would train; give one a weight")
        if self.two_stage is not None and not 0 <= self.two_stage <= 1:
            raise UserError(f"--two_stage {self.two_stage} is out of range; it must be in [0, 1]")
        if self.text_guided_refinement and (self.lambda_pos or not self.image_conditioning):
            raise UserError(
                "--text_guided_refinement refines image tokens by the concept prompt, so it needs the negative "
                "image branch alone; set --lambda_pos 0 (or use --method co-erasing)"
            )
        if self.rollout_steps and self.rollout != "ddim":
            raise UserError("--rollout_steps caps the ddim rollout; the reference rollout has no jumps, drop one")
        if self.resume and self.overwrite:
            raise UserError("--resume and --overwrite contradict each other; pass one of them")

    def require_run_fields(self) -> None:
        """The fields without which nothing can start (not required to build a config in pieces)."""
        required = ["pretrained_model_name_or_path", "concept", "output_dir"]
        if self.lambda_pos:
            required.append("positive_concept")  # only the positive branch needs it
        for name in required:
            if not getattr(self, name):
                raise UserError(f"--{name} is required")
