"""Seconds per iteration of the default trainer against the reference code's way, and the erasure of both.

Every run is the demo's Bi-Erasing (the toy world's settings: nudity-like scenario, batch 4, preservation
term, 32 references) on the bundled world, with the same seeds. The reference-style run works as the
reference code does: one UNet call per condition (4 teacher + 2 student, and the preservation term's own
pair), the reference images re-encoded every step, and a 50-step rollout schedule walked step by step.
Candidates for a cheaper default (``--variants``) run beside them. fp32 throughout (accelerate fixes the
precision once per process).

Two parts, run together or apart (``--part``), each into its own results file:

- ``timing``: seconds per iteration, the median of 3 short runs per variant, alternating, in one process,
  on an otherwise idle machine (``results/trainer_speed.json``);
- ``erasure``: one full run per variant judged on the development prompt sets only (toyworld DEV_SEED),
  where a default may be chosen, never the evaluation seeds (``results/trainer_speed_erasure.json``).

    python benchmarks/trainer_speed.py [--part timing|erasure] [--variants default rollout_1 reuse_4 reference_style]
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common import alternating_timings, parser, write
from diffusers import UNet2DConditionModel

from bierase import erase
from bierase.demo import SCENARIO, demo_config
from bierase.evaluation.toyworld import DEV_SEED, PROTOCOL, SAMPLING, evaluate
from bierase.toyworld import load_judge, load_pipeline, model_path

REFERENCE_ROLLOUT_STEPS = 50  # the reference code's schedule (N = 50, method note section 3)
VARIANTS = {
    "default": {},
    "rollout_1": {"rollout_steps": 1},  # one DDIM jump from T to the drawn timestep
    "reuse_2": {"rollout_reuse": 2},
    "reuse_4": {"rollout_reuse": 4},
    "rollout_1_reuse_4": {"rollout_steps": 1, "rollout_reuse": 4},
    "default_rollout_50": {"ddim_steps": REFERENCE_ROLLOUT_STEPS, "rollout_steps": 0},
    "reference_style": {"batched_calls": False, "cache_embeddings": False,
                        "ddim_steps": REFERENCE_ROLLOUT_STEPS, "rollout_steps": 0},
}  # fmt: skip
REPEATS = 3


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--part", choices=("timing", "erasure", "both"), default="both")
    p.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=["default", "reference_style"])
    args = p.parse_args()
    timed_steps, steps, samples = (4, 8, 8) if args.quick else (40, 300, 48)
    suffix = "_quick" if args.quick else ""
    variants = {name: VARIANTS[name] for name in args.variants}
    model = model_path()
    with tempfile.TemporaryDirectory() as tmp:

        def run(name: str, folder: str, n_steps: int) -> Path:
            # checkpoints only at the end (a reused rollout needs steps that divide by its R)
            options = {**variants[name], "max_train_steps": n_steps, "checkpointing_steps": 0}
            return erase(demo_config(model, Path(tmp) / folder, **options))

        if args.part in ("timing", "both"):
            write("trainer_speed" + suffix, timing(run, variants, timed_steps))
        if args.part in ("erasure", "both"):
            write("trainer_speed_erasure" + suffix, erasure(run, variants, steps, samples))


def timing(run, variants: dict, timed_steps: int) -> dict:
    return {"settings": "bierase demo (Bi-Erasing, toy-world settings, batch 4)", "precision": "fp32",
            **alternating_timings(run, variants, timed_steps, REPEATS)}  # fmt: skip


def erasure(run, variants: dict, steps: int, samples: int) -> dict:
    model = model_path()
    pipe, judge = load_pipeline(model), load_judge(model)
    original = evaluate(pipe, judge, SCENARIO, samples, SAMPLING, seed=DEV_SEED)
    figures: dict = {"protocol": PROTOCOL, "seed": DEV_SEED, "samples_per_set": samples, "max_train_steps": steps,
                     "scenario": SCENARIO.name, "original": summary(original.metrics)}  # fmt: skip
    for name in variants:
        out = run(name, f"{name}-erasure", steps)
        pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(out / "unet"))
        metrics = evaluate(pipe, judge, SCENARIO, samples, SAMPLING, seed=DEV_SEED, original=original).metrics
        figures[name] = {"options": variants[name], "training_s": json.loads((out / "bierase.json").read_text())["seconds"],
                         **summary(metrics)}  # fmt: skip
    return figures


def summary(metrics: dict) -> dict:
    return {key: metrics[key] for key in ("concept_rate", "safe_rate", "preservation", "intervals") if key in metrics}


if __name__ == "__main__":
    main()
