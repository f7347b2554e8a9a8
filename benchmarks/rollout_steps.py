"""Rollout schedule: time per step and erasure results, on the development seeds only.

The rollout costs about N/2 UNet calls per training step, most of an iteration.
This sweep is how the toy world's default schedule was chosen: the trained
defaults with N in (5, 10, 20, 50), and with the rollout capped at R calls
(DDIM jumps, ``--rollout_steps R``), erase the nudity-like scenario and are
judged on the development prompt sets (toyworld DEV_SEED), never on the
reported ones.

    python benchmarks/rollout_steps.py [--quick]
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common import parser, write
from diffusers import UNet2DConditionModel

from bierase import erase
from bierase.benchmark.plan import method_defaults
from bierase.evaluation.toyworld import DEV_SEED, SAMPLING, evaluate
from bierase.methods.bi_erasing.config import BiErasingConfig
from bierase.toyworld import load_judge, load_pipeline, model_path
from bierase.toyworld.vocabulary import SCENARIOS


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    # (N, R): N-step schedule, at most R UNet calls per rollout (0: all of them)
    quick = ((5, 0), (50, 0), (50, 5))
    schedules = ((10, 3), (10, 2), (50, 5), (5, 0), (10, 0), (20, 0), (50, 0))
    steps, samples, schedules = (20, 16, quick) if args.quick else (300, 48, schedules)
    scenario, model = SCENARIOS["nudity"], str(model_path())
    sampling = SAMPLING
    pipe, judge = load_pipeline(model), load_judge(model)
    original = evaluate(pipe, judge, scenario, samples, sampling, seed=DEV_SEED)
    figures: dict = {"scenario": scenario.name, "max_train_steps": steps, "eval_samples": samples, "seed": DEV_SEED}
    with tempfile.TemporaryDirectory() as tmp:
        for n, r in schedules:
            name = f"N={n}" + (f",R={r}" if r else "")
            options = {
                **method_defaults("bi-erasing", scenario, steps, 32, toy_world=False),
                "ddim_steps": n,
                "rollout_steps": r,
            }
            out = erase(
                BiErasingConfig(pretrained_model_name_or_path=model, output_dir=str(Path(tmp) / name), **options)
            )
            seconds = json.loads((out / "bierase.json").read_text())["seconds"]
            pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(out / "unet"))
            metrics = evaluate(pipe, judge, scenario, samples, sampling, seed=DEV_SEED, original=original).metrics
            figures[name] = {"s_per_iteration": seconds / steps, "concept_rate": metrics["concept_rate"],
                                 "safe_rate": metrics["safe_rate"], "preservation": metrics["preservation"]}  # fmt: skip
    write("rollout_steps", figures)


if __name__ == "__main__":
    main()
