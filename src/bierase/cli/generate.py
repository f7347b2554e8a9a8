"""``bierase generate``: one image per row of a prompt set, with the row's seed, resumable and multi-GPU.

Run it under ``accelerate launch`` to split the rows across processes.
"""

from __future__ import annotations

import argparse

from bierase.cli.options import MODEL_HELP, non_negative_float, non_negative_int, positive_int


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="generate a prompt set (CSV with seeds) with a pipeline, optionally with an erased UNet or LoRA",
        description="One image per prompt row, named <case_number>.png, seeded by the row; "
        "rerun the same command to resume. Use `accelerate launch -m bierase.cli.main generate ...` for several GPUs.",
    )
    parser.add_argument(
        "--pretrained_model_name_or_path", required=True, help=f"base {MODEL_HELP}: SD 1.x, 2.x or SDXL base"
    )
    erased = parser.add_mutually_exclusive_group()
    erased.add_argument("--unet", default=None, help="erased UNet folder (or an erasure's output folder)")
    erased.add_argument("--lora", default=None, help="erased LoRA .safetensors (or the folder holding it)")
    parser.add_argument(
        "--prompts",
        required=True,
        help="prompt CSV, or a bundled set: i2p_4703, coco_10k, imagenette_prompts, artist_prompts",
    )
    parser.add_argument("--output_dir", required=True, help="image folder; an existing one is resumed")
    parser.add_argument("--limit", type=positive_int, default=None, help="generate at most this many rows")
    parser.add_argument("--start", type=non_negative_int, default=0, help="first row (0-based)")
    parser.add_argument("--end", type=non_negative_int, default=None, help="stop before this row")
    parser.add_argument("--batch_size", type=positive_int, default=4)
    parser.add_argument("--num_inference_steps", type=positive_int, default=50)
    parser.add_argument(
        "--guidance_scale",
        type=non_negative_float,
        default=None,
        help="one scale for every row (default: the row's own evaluation_guidance, else 7.5)",
    )
    parser.add_argument("--height", type=positive_int, default=None, help="default: the pipeline's")
    parser.add_argument("--width", type=positive_int, default=None, help="default: the pipeline's")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float16", "bfloat16"])
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from bierase.generation import MANIFEST, GenerationConfig, generate_prompt_set, process_state

    fields = GenerationConfig.__dataclass_fields__
    config = GenerationConfig(**{k: v for k, v in vars(args).items() if k in fields})
    state = process_state()
    out = generate_prompt_set(config, state)
    if state.is_main_process:
        print(f"images and {MANIFEST} in {out}")
    return 0
