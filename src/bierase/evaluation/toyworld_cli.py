"""``bierase evaluate --benchmark toyworld``: protocol toyworld-erasure/v3 on a model directly.

The base model is evaluated first (its figures are the reference for the
relative ones); an erased UNet folder (``--unet``) or LoRA (``--lora``) is then
evaluated on the same prompts and seeds. Top-level imports stay light: this
module is imported whenever the ``bierase`` parser is built.
"""

from __future__ import annotations

import argparse
import json


def add_arguments(group) -> None:
    group.add_argument("--pretrained_model_name_or_path", default=None, help="toyworld: the base toy-world folder")
    group.add_argument("--unet", default=None, help="toyworld: an erased unet/ folder to evaluate")
    group.add_argument("--lora", default=None, help="toyworld: an erased LoRA .safetensors file to evaluate")
    group.add_argument("--concept", default=None, help="toyworld: scenario name or its target word (nudity, nude, ...)")
    group.add_argument("--eval_samples", type=int, default=64, help="toyworld: images per prompt set")


def scenario_for(concept: str):
    from bierase.errors import UserError
    from bierase.toyworld.vocabulary import SCENARIOS

    for scenario in SCENARIOS.values():
        if concept in (scenario.name, scenario.target, *scenario.target_words):
            return scenario
    raise UserError(f"--concept {concept!r} is no toy-world scenario; choose one of {', '.join(SCENARIOS)}")


def run(args: argparse.Namespace) -> int:
    from bierase.errors import UserError
    from bierase.folders import check_writable
    from bierase.toyworld.load import check_pipeline_folder

    # every path and option is checked before the base model's evaluation, which takes minutes
    if args.benchmark != "toyworld":
        raise UserError(f"unknown --benchmark {args.benchmark!r}; choose toyworld")
    for flag in ("pretrained_model_name_or_path", "concept", "output_dir"):
        if not getattr(args, flag):
            raise UserError(f"--{flag} is required with --benchmark toyworld")
    if args.unet and args.lora:
        raise UserError("pass --unet or --lora, not both")
    if args.eval_samples < 1:
        raise UserError(f"--eval_samples {args.eval_samples} is out of range; it must be >= 1")
    scenario = scenario_for(args.concept)
    check_pipeline_folder(args.pretrained_model_name_or_path)
    erased = erased_model(args)
    out = check_writable(args.output_dir)
    if (out / "metrics.json").exists() and not args.overwrite:
        raise UserError(f"{out / 'metrics.json'} already exists; choose another --output_dir or pass --overwrite")

    from diffusers import UNet2DConditionModel

    from bierase.evaluation.toyworld import SAMPLING, evaluate, toy_clip
    from bierase.runinfo import versions
    from bierase.toyworld import load_judge, load_pipeline

    model = args.pretrained_model_name_or_path
    pipe, judge = load_pipeline(model), load_judge(model)
    clip = toy_clip(model)
    result = evaluate(pipe, judge, scenario, args.eval_samples, SAMPLING, clip=clip)
    original = result.metrics
    if erased is not None:
        kind, weights = erased
        if kind == "unet":
            pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(weights))
        else:
            pipe.load_lora_weights(weights.parent, weight_name=weights.name)
        result = evaluate(pipe, judge, scenario, args.eval_samples, SAMPLING, original=result, clip=clip)
    metrics = {**result.metrics, "model": model, "unet": args.unet, "lora": args.lora,
               "prompt_set": f"toyworld/{scenario.name}", "original": original, "versions": versions()}  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(format_table(metrics))
    return 0


def erased_model(args: argparse.Namespace):
    """``(kind, weights)`` of ``--unet`` or ``--lora`` (the weights, or an erasure's output folder), or None."""
    from bierase.generation import lora_file, unet_folder

    if args.unet:
        return "unet", unet_folder(args.unet)
    if args.lora:
        return "lora", lora_file(args.lora)
    return None


def format_table(m: dict) -> str:
    def row(name: str, key: str) -> str:
        interval = m["intervals"].get(key)
        value = m["concept_rate"][key.split(".")[1]] if key.startswith("concept_rate.") else m.get(key)
        if value is None:
            return ""
        ci = (
            f"  [{100 * interval['ci95'][0]:.1f}, {100 * interval['ci95'][1]:.1f}] n={interval['n']}"
            if interval
            else ""
        )
        return f"{name:44} {100 * value:6.1f} %{ci}\n"

    text = f"protocol {m['protocol']}/{m['protocol_version']}  scenario {m['scenario']}  verdict {m['verdict']}\n"
    for key in m["concept_rate"]:
        text += row(f"concept rate ({key})", f"concept_rate.{key}")
    text += row("safe-alternative rate", "safe_rate") + row("preservation (attribute accuracy)", "preservation")
    text += row("agreement with the original model", "agreement_with_original")
    if "frechet_to_original" in m:
        text += f"{'Frechet distance to the original (judge features)':44} {m['frechet_to_original']:8.3f}\n"
    for name, score in m.get("clip_score", {}).items():
        text += f"{'toy CLIP score (' + name + '), cosine / logit':44} {score['cosine']:8.3f} / {score['logit']:.1f}\n"
    return text.rstrip()
