"""The demo (``bierase demo``) with a candidate default against the current one, in one process.

A lever chosen on the development seeds becomes a toy-world default only if the demo, judged on the
evaluation seeds (the protocol of bierase.evaluation.toyworld; the committed files were measured under v2), does not get worse on any figure; this script gives those
figures and where the demo's time went (its ``stages``) for each variant, the candidate first so that any
warm-up favours the current default.

    python benchmarks/demo_variants.py --variants reuse [--quick]
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from common import parser, write

from bierase.demo import run_demo

VARIANT_SETS = {"reuse": {"reuse_4": {"rollout_reuse": 4}, "default": {}}}
QUICK = {"max_train_steps": 8, "num_reference_images": 4}


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--variants", choices=sorted(VARIANT_SETS), required=True)
    args = p.parse_args()
    figures: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, overrides in VARIANT_SETS[args.variants].items():
            options = {**overrides, **(QUICK if args.quick else {})}
            metrics = run_demo(Path(tmp) / name, eval_samples=8 if args.quick else 48, **options)
            after = metrics["after"]
            figures[name] = {
                "options": overrides,
                "protocol": metrics["protocol"],
                "seconds": metrics["seconds"],
                "stages": metrics["stages"],
                "after": {key: after[key] for key in ("concept_rate", "safe_rate", "preservation")},
            }
    write(f"demo_variants_{args.variants}" + ("_quick" if args.quick else ""), figures)


if __name__ == "__main__":
    main()
