"""``bierase toyworld``: the built-in toy world (where it is, rebuild it, generate with it)."""

from __future__ import annotations

import argparse

from bierase.cli.options import new_or_empty_dir, non_negative_float, positive_int


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("toyworld", help="the built-in toy world: path, build, measure, generate")
    commands = parser.add_subparsers(dest="toyworld_command", metavar="ACTION", required=True)

    path = commands.add_parser("path", help="print the folder of the bundled toy-world pipeline")
    path.set_defaults(run=run_path)

    build = commands.add_parser("build", help="train every toy-world model from scratch (seeded)")
    build.add_argument("--output_dir", type=new_or_empty_dir, required=True, help="new folder for the built world")
    build.add_argument("--smoke", action="store_true", help="seconds-long run of every stage (CI); learns nothing")
    build.add_argument("--seed", type=int, default=0)
    build.set_defaults(run=run_build)

    measure = commands.add_parser("measure", help="measure a built world's quality again and rewrite its card")
    measure.add_argument("--pretrained_model_name_or_path", required=True,
                         help="a folder written by `bierase toyworld build`")  # fmt: skip
    measure.set_defaults(run=run_measure)

    generate = commands.add_parser("generate", help="generate images from prompts with a toy-world pipeline")
    generate.add_argument("--prompt", action="append", required=True, help="a prompt; repeat for several")
    generate.add_argument("--output_dir", type=new_or_empty_dir, required=True)
    generate.add_argument("--pretrained_model_name_or_path", default=None,
                          help="pipeline folder (default: the bundled toy world)")  # fmt: skip
    generate.add_argument("--num_images", type=positive_int, default=4, help="images per prompt")
    generate.add_argument("--seed", type=int, default=0, help="seed of the first image; the others count up")
    generate.add_argument("--num_inference_steps", type=positive_int, default=30, help="sampling steps")
    generate.add_argument("--guidance_scale", type=non_negative_float, default=4.0)
    generate.set_defaults(run=run_generate)


def run_path(args: argparse.Namespace) -> int:
    from bierase.errors import UserError
    from bierase.toyworld import model_path

    if not (model_path() / "model_index.json").is_file():
        raise UserError(
            f"the bundled toy world is missing from this install ({model_path()}); "
            "reinstall bierase or build one with `bierase toyworld build --output_dir DIR`"
        )
    print(model_path())
    return 0


def run_build(args: argparse.Namespace) -> int:
    from bierase.toyworld.build import BuildConfig, build

    config = BuildConfig.smoke() if args.smoke else BuildConfig()
    config = BuildConfig(**{**config.__dict__, "seed": args.seed})
    out = build(args.output_dir, config)
    print(f"built the toy world in {out} (model card: {out / 'README.md'})")
    return 0


def run_measure(args: argparse.Namespace) -> int:
    from bierase.toyworld.build import remeasure

    quality = remeasure(args.pretrained_model_name_or_path)
    print(", ".join(f"{k}={v:.3g}" for k, v in quality.items()))
    return 0


def run_generate(args: argparse.Namespace) -> int:
    from bierase.images import save_grid, save_images
    from bierase.runinfo import write_run_info
    from bierase.sampling import SamplingConfig, generate
    from bierase.toyworld import load_pipeline, model_path
    from bierase.toyworld.words import warn_unknown_words

    pipe = load_pipeline(args.pretrained_model_name_or_path)  # checks the folder before any sampling
    warn_unknown_words(args.prompt, args.pretrained_model_name_or_path or model_path())
    prompts = [p for p in args.prompt for _ in range(args.num_images)]
    seeds = [args.seed + i for i in range(len(prompts))]
    sampling = SamplingConfig(num_inference_steps=args.num_inference_steps, guidance_scale=args.guidance_scale)
    images = generate(pipe, prompts, seeds, sampling)
    names = [f"{i:04d}_seed{s}.png" for i, s in enumerate(seeds)]
    save_images(images, names, args.output_dir)
    save_grid(images, args.output_dir / "grid.png", columns=args.num_images)
    write_run_info(args.output_dir, {**vars(args), "run": None, "output_dir": str(args.output_dir)}, prompts=prompts)
    print(f"wrote {len(images)} images and grid.png to {args.output_dir}")
    return 0
