"""Bi-Erasing per-iteration time: bierase's trainer against the reference code's way of working.

Both runs erase the toy world's nudity-like scenario with the same seeds,
references and rollout length, in one process. The reference-style run makes
one UNet call per condition (4 teacher + 2 student) and re-encodes the
reference images every step; the default batches the calls and caches the
embeddings. Both run in fp32 (accelerate fixes the precision once per process). Both are then
evaluated (protocol toyworld-erasure/v1), so speed is never bought with results.

    python benchmarks/trainer_speed.py [--quick]
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common import parser, stopwatch, write
from diffusers import UNet2DConditionModel

from bierase.benchmark.plan import trained_defaults
from bierase.evaluation.toyworld import evaluate
from bierase.methods.bi_erasing.config import BiErasingConfig
from bierase.methods.bi_erasing.trainer import erase
from bierase.sampling import SamplingConfig
from bierase.toyworld import load_judge, load_pipeline, model_path
from bierase.toyworld.vocabulary import SCENARIOS


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    steps, samples = (20, 16) if args.quick else (300, 48)  # 300: the demo's default
    scenario, model = SCENARIOS["nudity"], str(model_path())
    sampling = SamplingConfig(num_inference_steps=20, guidance_scale=4.0)
    pipe, judge = load_pipeline(model), load_judge(model)
    original = evaluate(pipe, judge, scenario, samples, sampling)
    # accelerate fixes the mixed-precision mode once per process, so both runs use fp32 here:
    # the ratio is what batching and caching buy; bf16 is measured by sd15_unet.py
    variants = {
        "default": {},
        "reference_style": {"batched_calls": False, "cache_embeddings": False, "mixed_precision": "no"},
    }
    figures: dict = {"scenario": scenario.name, "max_train_steps": steps, "eval_samples": samples}
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in variants.items():
            options = {**trained_defaults(scenario, steps, 32), "checkpointing_steps": 0, **overrides}
            config = BiErasingConfig(pretrained_model_name_or_path=model, output_dir=str(Path(tmp) / name), **options)
            with stopwatch() as run:
                out = erase(config)
            seconds_training = json.loads((out / "bierase.json").read_text())["seconds"]
            pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(out / "unet"))
            metrics = evaluate(pipe, judge, scenario, samples, sampling, original=original).metrics
            figures[name] = {
                "options": overrides, "run_s": round(run["s"], 1), "training_s": seconds_training,
                "s_per_iteration": seconds_training / steps, "concept_rate": metrics["concept_rate"],
                "safe_rate": metrics["safe_rate"], "preservation": metrics["preservation"],
            }  # fmt: skip
    figures["speedup"] = figures["reference_style"]["s_per_iteration"] / figures["default"]["s_per_iteration"]
    write("trainer_speed", figures)


if __name__ == "__main__":
    main()
