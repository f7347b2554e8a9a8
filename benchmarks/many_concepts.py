"""What many concepts in one run cost: wall time and peak memory of erasing 1, 10 and 100 of the toy world's
names at once (protocol toyworld-identities/v1's choices), with the identities scenario's settings.

A step trains ``train_batch_size`` samples whatever the number of concepts (each sample draws its concept),
so the seconds per iteration should not grow; what grows is the reference sets (a budget of images per
concept, generated in one pass, masked and encoded once) and the text table. The figures separate the two:
the first run's whole wall time and training seconds (``bierase.json``), the seconds per iteration (the
median of three runs, interleaved over k: the later two train again on the first one's references), the
reference images made, and the peak resident memory of the process (the runs go in order of k in one process, so
the peak of a run is an upper bound of its own). This script measures cost only: whether a step count erases every concept
as well is the identities benchmark's question (``bierase benchmark --scenario identities``).

    python benchmarks/many_concepts.py [--quick]
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from common import parser, write

from bierase import BiErasingConfig, ESDConfig, erase
from bierase.benchmark.memory import peak_memory
from bierase.benchmark.plan import identity_defaults
from bierase.toyworld import model_path

METHODS = {"bi-erasing": BiErasingConfig, "esd": ESDConfig}
REPEATS = 3


def run(method: str, k: int, steps: int, references: int, out: Path, resume: bool = False) -> dict:
    cls = METHODS[method]
    options = identity_defaults(method, k, steps, references)
    config = cls(pretrained_model_name_or_path=str(model_path()), output_dir=str(out), resume=resume, **options)
    started = time.perf_counter()
    with peak_memory() as memory:
        erase(config)
    wall = time.perf_counter() - started
    record = json.loads((out / "bierase.json").read_text())
    return {"wall_s": round(wall, 1), "training_s": record["seconds"], "s_per_iteration": record["seconds"] / steps,
            "reference_images": sum(sum(r["images"]) for r in record["references"].values()),
            "peak_memory_mb": round(memory["mb"], 1)}  # fmt: skip


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    ks, steps, references = ((1, 10), 10, 2) if args.quick else ((1, 10, 100), 50, 8)
    figures: dict = {"max_train_steps": steps, "references_per_concept": references, "model": str(model_path()),
                     "repeats": REPEATS}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for method in METHODS:
            first = {k: run(method, k, steps, references, Path(tmp) / f"{method}-{k}-0") for k in ks}
            seconds = {k: [first[k]["s_per_iteration"]] for k in ks}
            for repeat in range(1, REPEATS):  # interleaved, on the first run's references (--resume from step 0)
                for k in ks:
                    out = Path(tmp) / f"{method}-{k}-{repeat}"
                    out.mkdir()
                    for kept in ("config.yaml", "references"):
                        source = Path(tmp) / f"{method}-{k}-0" / kept
                        if source.exists():
                            (shutil.copytree if source.is_dir() else shutil.copy)(source, out / kept)
                    seconds[k].append(run(method, k, steps, references, out, resume=True)["s_per_iteration"])
            for k in ks:
                figures[f"{method} k={k}"] = {**first[k], "s_per_iteration": statistics.median(seconds[k]),
                                              "s_per_iteration_runs": seconds[k]}  # fmt: skip
                print(method, k, figures[f"{method} k={k}"])
    for method in METHODS:
        one, many = figures[f"{method} k={ks[0]}"], figures[f"{method} k={ks[-1]}"]
        figures[f"{method} ratio k={ks[-1]} / k={ks[0]}"] = {
            key: round(many[key] / one[key], 2) for key in ("wall_s", "s_per_iteration", "peak_memory_mb")
        }
    write("many_concepts", figures)


if __name__ == "__main__":
    main()
