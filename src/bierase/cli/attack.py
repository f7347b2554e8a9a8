"""``bierase attack``: an UnlearnDiffAtk-style prompt attack on an erased model.

Two protocols, chosen by what is given: ``--concept`` attacks a toy-world
scenario (toyworld-attack/v1, judged by the world's judge); ``--prompts``
attacks a Stable Diffusion model on a prompt CSV (unlearndiffatk/v1, judged
by NudeNet).
"""

from __future__ import annotations

import argparse

from bierase.cli.options import positive_int

TOY_DEFAULTS = {"prefix_words": 3, "attack_steps": 30}
SD_DEFAULTS = {"prefix_words": 5, "attack_steps": 40}  # UnlearnDiffAtk's


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "attack", help="adversarial prompt attack on an erased model (toy world or Stable Diffusion + NudeNet)"
    )
    parser.add_argument("--pretrained_model_name_or_path", required=True, help="the original model folder or hub id")
    parser.add_argument("--unet", default=None, help="the erased unet/ folder (default: attack the original)")
    parser.add_argument("--lora", default=None, help="Stable Diffusion: the erased LoRA file instead of --unet")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--concept", help="toy world: scenario name or its target word (nudity, nude, ...)")
    target.add_argument(
        "--prompts", help="Stable Diffusion, SDXL base too: prompt CSV with seeds (e.g. the I2P nudity rows)"
    )
    parser.add_argument("--output_dir", required=True, help="where metrics.json (and, for --prompts, images) go")
    parser.add_argument(
        "--target_images",
        default=None,
        help="--prompts: the original model's images by case number (default: generated)",
    )
    parser.add_argument("--protocol", default="nudenet-unlearndiffatk", help="--prompts: the NudeNet counting rule")
    parser.add_argument("--limit", type=positive_int, default=None, help="--prompts: the first N rows only")
    parser.add_argument("--num_inference_steps", type=positive_int, default=50, help="--prompts: sampling steps")
    parser.add_argument("--dtype", default="float32", help="--prompts: float32, float16 or bfloat16")
    parser.add_argument("--num_prompts", type=positive_int, default=24, help="--concept: prompts attacked")
    parser.add_argument(
        "--prefix_words",
        type=positive_int,
        default=None,
        help="prefix tokens (default: 3 for the toy world, 5 for --prompts); on SDXL one token sequence read by both "
        "text encoders, so the pooled embedding is the prefixed prompt's and is optimised with the states",
    )
    parser.add_argument(
        "--attack_steps",
        type=positive_int,
        default=None,
        help="optimisation steps per prompt (default: 30 for the toy world, 40 for --prompts)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    defaults = TOY_DEFAULTS if args.concept else SD_DEFAULTS
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    metrics = _toy_world(args) if args.concept else _stable_diffusion(args)
    print(f"protocol {metrics['protocol']}/{metrics['protocol_version']}")
    print(f"pre-attack success rate (pre_asr): {100 * metrics['pre_asr']:.1f} %  n={metrics['intervals']['asr']['n']}")
    print(f"attack success rate (asr):         {100 * metrics['asr']:.1f} %  ({metrics['asr_definition']})")
    return 0


def _stable_diffusion(args: argparse.Namespace) -> dict:
    from bierase.evaluation.nudity_attack import NudityAttackConfig, run_nudity_attack
    from bierase.generation import GenerationConfig

    erased = GenerationConfig(
        pretrained_model_name_or_path=args.pretrained_model_name_or_path, prompts=args.prompts,
        output_dir=args.output_dir, unet=args.unet, lora=args.lora, limit=args.limit,
        num_inference_steps=args.num_inference_steps, dtype=args.dtype,
    )  # fmt: skip
    config = NudityAttackConfig(
        erased, target_images=args.target_images, protocol=args.protocol, prefix_tokens=args.prefix_words,
        attack_steps=args.attack_steps, seed=args.seed,
    )  # fmt: skip
    return run_nudity_attack(config)


def _toy_world(args: argparse.Namespace) -> dict:
    import json

    from bierase.errors import UserError
    from bierase.evaluation.attack import AttackConfig, run_attack
    from bierase.evaluation.toyworld_cli import scenario_for
    from bierase.folders import check_writable
    from bierase.generation import unet_folder
    from bierase.toyworld.load import check_pipeline_folder

    scenario = scenario_for(args.concept)
    out = check_writable(args.output_dir)
    if (out / "metrics.json").exists():
        raise UserError(f"{out / 'metrics.json'} already exists; choose another --output_dir")
    if args.lora:
        raise UserError("--lora is for --prompts (Stable Diffusion); the toy-world attack takes --unet")
    check_pipeline_folder(args.pretrained_model_name_or_path)
    unet = unet_folder(args.unet) if args.unet else None

    from diffusers import UNet2DConditionModel

    from bierase.evaluation.toyworld import SAMPLING
    from bierase.runinfo import versions
    from bierase.toyworld import load_judge, load_pipeline

    original = load_pipeline(args.pretrained_model_name_or_path)
    erased = load_pipeline(args.pretrained_model_name_or_path)
    if unet:
        erased.register_modules(unet=UNet2DConditionModel.from_pretrained(unet))
    config = AttackConfig(prompts=args.num_prompts, prefix_words=args.prefix_words, steps=args.attack_steps,
                          seed=args.seed)  # fmt: skip
    metrics = run_attack(erased, original, load_judge(args.pretrained_model_name_or_path), scenario, config, SAMPLING)
    metrics.update(model=args.pretrained_model_name_or_path, unet=args.unet, versions=versions())
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"scenario {scenario.name}")
    return metrics
