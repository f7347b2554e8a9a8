"""Images per second of ``bierase generate`` at several batch sizes (toy world; coco_10k prompts, own seeds).

python benchmarks/generation_throughput.py [--quick]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import parser, stopwatch, write

from bierase.generation import GenerationConfig, generate_prompt_set
from bierase.toyworld import model_path


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    images = 16 if args.quick else 64
    sizes = (1, 8, 16) if args.quick else (1, 4, 16, 32, 64)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for batch_size in sizes:
            config = GenerationConfig(
                pretrained_model_name_or_path=str(model_path()), prompts="coco_10k", limit=images,
                output_dir=str(Path(tmp) / f"b{batch_size}"), batch_size=batch_size, num_inference_steps=20,
            )  # fmt: skip
            with stopwatch() as clock:
                generate_prompt_set(config)
            rows.append({"batch_size": batch_size, "images": images, "seconds": clock["s"],
                         "images_per_second": images / clock["s"]})  # fmt: skip
    best = max(rows, key=lambda r: r["images_per_second"])
    write("generation_throughput", {"rows": rows, "speedup_best_vs_batch_1": best["images_per_second"]
                                    / rows[0]["images_per_second"], "num_inference_steps": 20})  # fmt: skip


if __name__ == "__main__":
    main()
