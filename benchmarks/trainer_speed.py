"""Bi-Erasing per-iteration time: bierase's trainer against the reference code's way of working.

All runs erase the toy world's nudity-like scenario with the same seeds and
references, in one process. The reference-style run works the way the
reference code does: one UNet call per condition (4 teacher + 2 student), the
reference images re-encoded every step, and a rollout schedule of 50 steps,
every step of it walked. The default batches the calls, caches the embeddings
and rolls out on a shorter schedule in at most two calls (DDIM jumps); a third
run (the default with the reference's full 50-step rollout) separates what the
rollout buys from what batching and caching buy. All run in
fp32 (accelerate fixes the precision once per process; bf16 is measured by
sd15_unet.py). Every run is then evaluated (protocol toyworld-erasure/v1), so
speed is never bought with results.

    python benchmarks/trainer_speed.py [--quick]
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common import parser, stopwatch, write
from diffusers import UNet2DConditionModel

from bierase import erase
from bierase.benchmark.plan import method_defaults
from bierase.evaluation.toyworld import SAMPLING, evaluate
from bierase.methods.bi_erasing.config import BiErasingConfig
from bierase.toyworld import load_judge, load_pipeline, model_path
from bierase.toyworld.vocabulary import SCENARIOS

REFERENCE_ROLLOUT_STEPS = 50  # the reference code's schedule (N = 50, method note section 3)


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    steps, samples = (20, 16) if args.quick else (300, 48)  # 300: the demo's default
    scenario, model = SCENARIOS["nudity"], str(model_path())
    sampling = SAMPLING
    pipe, judge = load_pipeline(model), load_judge(model)
    original = evaluate(pipe, judge, scenario, samples, sampling)
    variants = {
        "default": {},
        "default_rollout_50": {"ddim_steps": REFERENCE_ROLLOUT_STEPS, "rollout_steps": 0},
        "reference_style": {"batched_calls": False, "cache_embeddings": False, "mixed_precision": "no",
                            "ddim_steps": REFERENCE_ROLLOUT_STEPS, "rollout_steps": 0},
    }  # fmt: skip
    figures: dict = {"scenario": scenario.name, "max_train_steps": steps, "eval_samples": samples}
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in variants.items():
            options = {
                **method_defaults("bi-erasing", scenario, steps, 32, toy_world=False),
                "checkpointing_steps": 0,
                **overrides,
            }
            config = BiErasingConfig(pretrained_model_name_or_path=model, output_dir=str(Path(tmp) / name), **options)
            with stopwatch() as run:
                out = erase(config)
            seconds_training = json.loads((out / "bierase.json").read_text())["seconds"]
            pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(out / "unet"))
            metrics = evaluate(pipe, judge, scenario, samples, sampling, original=original).metrics
            figures[name] = {
                "options": overrides, "ddim_steps": config.ddim_steps, "run_s": round(run["s"], 1),
                "training_s": seconds_training,
                "s_per_iteration": seconds_training / steps, "concept_rate": metrics["concept_rate"],
                "safe_rate": metrics["safe_rate"], "preservation": metrics["preservation"],
            }  # fmt: skip
    per_iteration = {name: figures[name]["s_per_iteration"] for name in variants}
    figures["speedup"] = per_iteration["reference_style"] / per_iteration["default"]
    figures["speedup_from_batching_and_cache"] = per_iteration["reference_style"] / per_iteration["default_rollout_50"]
    figures["speedup_from_rollout"] = per_iteration["default_rollout_50"] / per_iteration["default"]
    write("trainer_speed", figures)


if __name__ == "__main__":
    main()
