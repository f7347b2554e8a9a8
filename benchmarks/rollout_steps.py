"""Rollout schedule length N: time per step and erasure results, on the development seeds only.

The rollout costs about N/2 UNet calls per training step, most of an iteration.
This sweep is how the toy world's default N was chosen: the trained defaults
with N in (5, 10, 20, 50) erase the nudity-like scenario and are judged on the
development prompt sets (toyworld DEV_SEED), never on the reported ones.

    python benchmarks/rollout_steps.py [--quick]
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common import parser, write
from diffusers import UNet2DConditionModel

from bierase.benchmark.plan import trained_defaults
from bierase.evaluation.toyworld import DEV_SEED, evaluate
from bierase.methods.bi_erasing.config import BiErasingConfig
from bierase.methods.bi_erasing.trainer import erase
from bierase.sampling import SamplingConfig
from bierase.toyworld import load_judge, load_pipeline, model_path
from bierase.toyworld.vocabulary import SCENARIOS


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    steps, samples, schedules = (20, 16, (5, 50)) if args.quick else (300, 48, (5, 10, 20, 50))
    scenario, model = SCENARIOS["nudity"], str(model_path())
    sampling = SamplingConfig(num_inference_steps=20, guidance_scale=4.0)
    pipe, judge = load_pipeline(model), load_judge(model)
    original = evaluate(pipe, judge, scenario, samples, sampling, seed=DEV_SEED)
    figures: dict = {"scenario": scenario.name, "max_train_steps": steps, "eval_samples": samples, "seed": DEV_SEED}
    with tempfile.TemporaryDirectory() as tmp:
        for n in schedules:
            options = {**trained_defaults(scenario, steps, 32), "ddim_steps": n}
            out = erase(
                BiErasingConfig(pretrained_model_name_or_path=model, output_dir=str(Path(tmp) / str(n)), **options)
            )
            seconds = json.loads((out / "bierase.json").read_text())["seconds"]
            pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(out / "unet"))
            metrics = evaluate(pipe, judge, scenario, samples, sampling, seed=DEV_SEED, original=original).metrics
            figures[f"N={n}"] = {"s_per_iteration": seconds / steps, "concept_rate": metrics["concept_rate"],
                                 "safe_rate": metrics["safe_rate"], "preservation": metrics["preservation"]}  # fmt: skip
    write("rollout_steps", figures)


if __name__ == "__main__":
    main()
