"""Cheaper ways to z_t against the default capped DDIM rollout and the reference code's way.

The default rolls the student out to ``z_t`` in two UNet calls (N = 10, DDIM jumps). Each set of variants
is one lever of issue 19: ``noised`` makes ``z_t`` from the drawn concept reference image's VAE latent with
the scheduler's ``add_noise`` (no UNet call); ``reuse`` lets one rollout serve R consecutive steps
(``--rollout_reuse``); ``precision`` trains under bf16 autocast (``--mixed_precision bf16``), which pays only
on a CPU with fast bf16 (AMX, AVX512-BF16) or a GPU. The reference-style run works as the reference code does (one call per condition,
embeddings re-encoded every step, all k steps of a 50-step rollout). Seconds per iteration: medians of 3
short runs per variant, alternating, in one process; erasure: one full run per variant, judged on the
development prompt sets only (toyworld DEV_SEED, the protocol of bierase.evaluation.toyworld; committed files: v2), where a default may be chosen.

    python benchmarks/rollout_variants.py --variants noised|reuse|precision [--quick]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import alternating_timings, parser, write
from diffusers import UNet2DConditionModel

from bierase import erase
from bierase.benchmark.plan import method_defaults
from bierase.evaluation.toyworld import DEV_SEED, PROTOCOL, SAMPLING, evaluate
from bierase.methods.bi_erasing.config import BiErasingConfig
from bierase.toyworld import load_judge, load_pipeline, model_path
from bierase.toyworld.vocabulary import SCENARIOS

DEFAULT = {"default": {}}
REFERENCE_STYLE = {
    "reference_style": {"batched_calls": False, "cache_embeddings": False, "ddim_steps": 50, "rollout_steps": 0}
}
VARIANT_SETS = {
    "noised": {**DEFAULT, "noised": {"rollout": "noised", "rollout_steps": 0}, **REFERENCE_STYLE},
    "reuse": {**DEFAULT, "reuse_2": {"rollout_reuse": 2}, "reuse_4": {"rollout_reuse": 4}},
    "precision": {**DEFAULT, "bf16": {"mixed_precision": "bf16"}, **REFERENCE_STYLE},
}
REPEATS = 3


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--variants", choices=sorted(VARIANT_SETS), required=True)
    args = p.parse_args()
    variants = VARIANT_SETS[args.variants]
    timed_steps, steps, samples = (4, 10, 8) if args.quick else (40, 300, 48)
    scenario, model = SCENARIOS["nudity"], str(model_path())
    base = {**method_defaults("bi-erasing", scenario, steps, 32, toy_world=False), "checkpointing_steps": 0}
    figures: dict = {"scenario": scenario.name, "protocol": PROTOCOL, "seed": DEV_SEED, "timed_steps": timed_steps,
                     "repeats": REPEATS, "max_train_steps": steps, "eval_samples": samples}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:

        def run(name: str, overrides: dict, n_steps: int) -> Path:
            options = {**base, **overrides, "max_train_steps": n_steps}
            return erase(
                BiErasingConfig(pretrained_model_name_or_path=model, output_dir=str(Path(tmp) / name), **options)
            )

        figures.update(
            alternating_timings(lambda name, folder, n: run(folder, variants[name], n), variants, timed_steps, REPEATS)
        )

        pipe, judge = load_pipeline(model), load_judge(model)
        original = evaluate(pipe, judge, scenario, samples, SAMPLING, seed=DEV_SEED)
        figures["original"] = _summary(original.metrics)
        for name, overrides in variants.items():
            out = run(f"{name}-erasure", overrides, steps)
            pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(out / "unet"))
            metrics = evaluate(pipe, judge, scenario, samples, SAMPLING, seed=DEV_SEED, original=original).metrics
            figures[name]["erasure"] = _summary(metrics)
    write(f"rollout_variants_{args.variants}" + ("_quick" if args.quick else ""), figures)


def _summary(metrics: dict) -> dict:
    return {key: metrics[key] for key in ("concept_rate", "safe_rate", "preservation") if key in metrics}


if __name__ == "__main__":
    main()
