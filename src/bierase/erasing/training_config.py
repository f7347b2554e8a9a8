"""The options every trained method shares (ESD, Co-Erasing, Bi-Erasing): the model, what to erase, how
the student trains, the rollout to ``z_t``, the preservation term, and the run's bookkeeping.

A method's config composes these with its own fields (dataclass inheritance); the trainer reads only
these. Field names follow diffusers' training scripts where one exists (``pretrained_model_name_or_path``,
``output_dir``, ``max_train_steps``, ``mixed_precision``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from bierase.erasing.options import RunConfig, option
from bierase.errors import UserError

TRAIN_METHODS = ("full", "xattn", "noxattn", "selfattn")
ROLLOUTS = ("ddim", "reference", "noised")
MIXED_PRECISION = ("no", "bf16", "fp16")
DYNAMO_BACKENDS = ("", "no", "eager", "aot_eager", "inductor", "cudagraphs")  # accelerate's names for torch.compile's
# options a resumed run may change: how long, how fast and how it is kept; everything else is what it computes
RESUMABLE = ("max_train_steps", "learning_rate", "checkpointing_steps", "save_pipeline", "teacher_device",
             "gradient_checkpointing", "dynamo_backend", "resume", "overwrite")  # fmt: skip


@dataclass
class TrainingConfig(RunConfig):
    # what to erase
    concept: list[str] = option(
        "the concept(s) to erase (c_neg), e.g. 'nudity'; several are erased in one run: each step draws, per "
        "sample, which one it trains (uniformly)",
        default_factory=list, one_or_many=True,
    )  # fmt: skip
    eta_neg: float = option("guidance strength of the negative target (ESD's eta)", default=1.0, low=0)
    # the student
    train_method: str = option(
        "parameters to train (xattn: the text cross-attention, diffusers' attn2 of every transformer block, on SD "
        "1.x/2.x and SDXL alike)",
        default="full", choices=TRAIN_METHODS,
    )  # fmt: skip
    lora_rank: int = option("train a LoRA of this rank (PEFT) instead of the weights; 0: no LoRA", default=0, low=0)
    learning_rate: float = option("Adam learning rate", default=1e-5, above=0)
    max_train_steps: int = option("optimizer steps", default=1000, low=1)
    train_batch_size: int = option("samples per condition per step", default=1, low=1)
    mixed_precision: str = option("accelerate mixed precision", default="no", choices=MIXED_PRECISION)
    teacher_device: str = option("device of the frozen teacher (default: the student's)", default="")
    batched_calls: bool = option(
        "run every term's teacher conditions as one UNet call, and every term's student conditions as another, "
        "text-only ones with the image branch off per sample (off: one call per condition, as the reference code)",
        default=True,
    )
    gradient_checkpointing: bool = option("recompute UNet activations in the backward pass to save memory",
                                          default=False)  # fmt: skip
    dynamo_backend: str = option(
        "torch.compile the student and the teacher UNet with this backend, through accelerate (inductor: for GPUs; "
        "the first steps pay the compile time: benchmarks/compile_speed.py); '': accelerate's "
        "own setting (none unless `accelerate config` chose one)",
        default="", choices=DYNAMO_BACKENDS,
    )  # fmt: skip
    init_unet: str = option("start from this (already erased) unet/ folder instead of the base UNet", default="")
    # the rollout to z_t
    rollout: str = option(
        "'ddim': T down to t (correct); 'reference': the reference code's ascending loop; 'noised': the "
        "concept's reference images noised to t (add_noise: no UNet call; 1.5x faster, but on the toy world it did "
        "not erase: benchmarks/rollout_variants.py). It samples at the UNet's sample_size (SDXL base: 1024 px, with "
        "time ids original = target size = 1024, crop (0, 0))", default="ddim",
        choices=ROLLOUTS,
    )  # fmt: skip
    ddim_steps: int = option(
        "N: sampling steps of the rollout schedule (the paper's 50; the rollout costs ~N/2 UNet calls a step, "
        "and on the toy world N = 10 erased as well as 50)",
        default=50, low=1,
    )  # fmt: skip
    rollout_steps: int = option(
        "most UNet calls of a ddim rollout (0: all k steps to the k-th of N); deeper steps are reached by DDIM "
        "jumps over evenly spaced timesteps of the same schedule, ending at the same t (the toy world uses 2)",
        default=0, low=0,
    )  # fmt: skip
    rollout_reuse: int = option(
        "consecutive steps one rollout's z_t serves (each step still draws its own images and prompts); a divisor "
        "of --max_train_steps and --checkpointing_steps; 1: a new rollout every step (the toy world keeps 1: 4 was "
        "1.2x faster and made two demo figures worse)", default=1, low=1,
    )  # fmt: skip
    rollout_guidance: float = option("classifier-free guidance of the rollout (ESD uses 3)", default=3.0, low=0)
    # the preservation term (not in the papers; an option of every trained method)
    preserve_prompts: list[str] = option(
        "prompts the erased model must keep drawing as the base model does; a term matches the student to the "
        "frozen teacher on them, text only (not in the paper; a retain set as AdvUnlearn's; empty: off)",
        default_factory=list,
    )
    lambda_preserve: float = option("weight of the preservation term on --preserve_prompts", default=1.0, low=0)
    # bookkeeping
    checkpointing_steps: int = option("write a checkpoint every K steps (0: only at the end)", default=100, low=0)
    resume: bool = option(
        "continue the run in output_dir from its last checkpoint (from step 0 if it has none, keeping its "
        f"references); only {', '.join(RESUMABLE[:-2])} may differ from the stored run",
        default=False,
    )

    def validate(self) -> None:
        super().validate()
        if self.rollout_steps and self.rollout != "ddim":
            raise UserError(f"--rollout_steps caps the ddim rollout; the {self.rollout} rollout has no jumps, drop one")
        if self.rollout == "noised" and not self.uses_images():
            raise UserError(
                "--rollout noised noises the concept's reference images, and this run uses none; use --rollout ddim"
            )
        if self.checkpointing_steps % self.rollout_reuse:
            raise UserError(
                f"--checkpointing_steps {self.checkpointing_steps} is not a multiple of --rollout_reuse "
                f"{self.rollout_reuse}, so a resumed run could not reuse the rollout it was on; make it one"
            )
        if self.max_train_steps % self.rollout_reuse:  # a finished run may be extended with --resume
            raise UserError(
                f"--max_train_steps {self.max_train_steps} is not a multiple of --rollout_reuse "
                f"{self.rollout_reuse}, so extending the run with --resume could not reuse its last rollout; make it one"
            )
        if self.resume and self.overwrite:
            raise UserError("--resume and --overwrite contradict each other; pass one of them")
        self.check_items("concept", self.concept)
        kept = sorted(set(self.concept) & set(self.preserve_prompts))
        if kept:
            raise UserError(f"{kept[0]!r} is both erased (--concept) and kept (--preserve_prompts); remove it from one")

    def prompts(self) -> dict[str, list[str]]:
        """The texts a condition may name (``bierase.erasing.objective``), as prompts to encode."""
        return {"empty": [""], "concept": list(self.concept), "preserve": list(self.preserve_prompts)}

    def uses_images(self) -> bool:
        """Whether the run conditions on reference images (and so loads an IP-Adapter)."""
        return False

    def image_sets(self) -> list:
        """The reference sets the run's conditions name (``ReferenceConfig`` has them)."""
        return []

    def frozen_on_resume(self) -> tuple[str, ...]:
        """The options a resumed run must keep (the rest of :data:`RESUMABLE` may change)."""
        return tuple(f.name for f in fields(self) if f.name not in RESUMABLE and f.name != "output_dir")
