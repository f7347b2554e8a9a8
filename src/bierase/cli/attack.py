"""``bierase attack``: an UnlearnDiffAtk-style prompt attack on an erased toy-world model."""

from __future__ import annotations

import argparse

from bierase.cli.options import positive_int


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("attack", help="adversarial prompt attack on an erased toy-world model")
    parser.add_argument("--pretrained_model_name_or_path", required=True, help="the original toy-world folder")
    parser.add_argument("--unet", default=None, help="the erased unet/ folder (default: attack the original)")
    parser.add_argument("--concept", required=True, help="scenario name or its target word (nudity, nude, ...)")
    parser.add_argument("--output_dir", required=True, help="where metrics.json goes")
    parser.add_argument("--num_prompts", type=positive_int, default=24)
    parser.add_argument("--prefix_words", type=positive_int, default=3)
    parser.add_argument("--attack_steps", type=positive_int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from bierase.errors import UserError
    from bierase.evaluation.attack import AttackConfig, run_attack
    from bierase.evaluation.toyworld_cli import scenario_for

    scenario = scenario_for(args.concept)
    out = Path(args.output_dir)
    if (out / "metrics.json").exists():
        raise UserError(f"{out / 'metrics.json'} already exists; choose another --output_dir")
    if args.unet and not (Path(args.unet) / "config.json").is_file():
        raise UserError(f"--unet {args.unet} is not a diffusers unet/ folder (no config.json)")

    from diffusers import UNet2DConditionModel

    from bierase.runinfo import versions
    from bierase.sampling import SamplingConfig
    from bierase.toyworld import load_judge, load_pipeline

    original = load_pipeline(args.pretrained_model_name_or_path)
    erased = load_pipeline(args.pretrained_model_name_or_path)
    if args.unet:
        erased.register_modules(unet=UNet2DConditionModel.from_pretrained(args.unet))
    config = AttackConfig(prompts=args.num_prompts, prefix_words=args.prefix_words, steps=args.attack_steps,
                          seed=args.seed)  # fmt: skip
    sampling = SamplingConfig(num_inference_steps=20, guidance_scale=4.0)
    metrics = run_attack(erased, original, load_judge(args.pretrained_model_name_or_path), scenario, config, sampling)
    metrics.update(model=args.pretrained_model_name_or_path, unet=args.unet, versions=versions())
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"protocol {metrics['protocol']}/{metrics['protocol_version']}  scenario {scenario.name}")
    print(f"pre-attack success rate (pre_asr): {100 * metrics['pre_asr']:.1f} %  n={config.prompts}")
    print(f"attack success rate (asr):         {100 * metrics['asr']:.1f} %  ({metrics['asr_definition']})")
    return 0
