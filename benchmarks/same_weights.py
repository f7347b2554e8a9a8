"""Does a change of the code change a result? The same erasure run by two source trees, weights compared.

Each configuration is written to a YAML file and run by ``bierase erase --config`` in a fresh process
per tree (``common.bierase_in``), on the bundled toy world; the saved UNets are compared tensor by
tensor. Used to show that a rebuild of the house changed no result, e.g. against the commit before it:

    git worktree add --detach ../before <commit>
    python benchmarks/same_weights.py --before ../before/src [--steps 20]

The configurations: Bi-Erasing with the demo's toy-world settings (references, CLIPSeg masks, the
preservation term) and in the paper's form (``method_defaults(..., toy_world=False)``).

``--repeats N`` also times the toy-world settings: N runs per tree, alternating (the first being the
compared run), each run's seconds per iteration from its ``bierase.json``; the median of each tree and
their ratio. Each run is a fresh process, so the ratio is of processes, not of one process.

    python benchmarks/same_weights.py --before ../before/src --steps 60 --repeats 3 --name same_weights_one_call
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

import yaml
from common import bierase_in, parser, write
from safetensors.torch import load_file

from bierase.benchmark.plan import method_defaults
from bierase.toyworld import model_path
from bierase.toyworld.vocabulary import SCENARIOS

HERE = Path(__file__).resolve().parents[1] / "src"
WEIGHTS = Path("unet") / "diffusion_pytorch_model.safetensors"


def configurations(steps: int) -> dict[str, dict]:
    scenario = SCENARIOS["nudity"]
    common = {"pretrained_model_name_or_path": str(model_path()), "checkpointing_steps": 0}
    return {
        "toy-world settings": {**method_defaults("bi-erasing", scenario, steps, 32), **common},
        "paper form": {**method_defaults("bi-erasing", scenario, steps, 32, toy_world=False), **common},
    }


def run(src: Path, options: dict, out: Path) -> Path:
    if (out / "bierase.json").is_file():  # a finished run in --work_dir is reused
        return out / WEIGHTS
    config = out.with_suffix(".yaml")
    config.write_text(yaml.safe_dump(options))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    command = [*bierase_in(src), "erase", "--config", str(config), "--output_dir", str(out)]
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return out / WEIGHTS


def max_difference(a: Path, b: Path) -> float:
    left, right = load_file(a), load_file(b)
    if set(left) != set(right):
        raise SystemExit(f"{a} and {b} hold different tensors")
    return max(float((left[k].double() - right[k].double()).abs().max()) for k in left)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--before", type=Path, required=True, help="the src/ folder of the other tree")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--work_dir", type=Path, default=None, help="keep the runs here, and reuse finished ones")
    p.add_argument("--only_before", action="store_true", help="run the other tree's side only (to reuse later)")
    p.add_argument("--repeats", type=int, default=0, help="also time the toy-world settings: runs per tree")
    p.add_argument("--name", default="same_weights", help="the results file's name")
    args = p.parse_args()
    steps = 3 if args.quick else args.steps
    figures: dict = {"steps": steps, "before": str(args.before.resolve()), "after": str(HERE)}
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work_dir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name, options in configurations(steps).items():
            slug = name.replace(" ", "_")
            before = run(args.before.resolve(), options, work / f"{slug}_before")
            if args.only_before:
                continue
            after = run(HERE, options, work / f"{slug}_after")
            base = load_file(model_path() / WEIGHTS)
            trained = load_file(after)
            moved = max(float((trained[k] - base[k]).abs().max()) for k in base)
            figures[name] = {"max_abs_difference": max_difference(before, after), "max_abs_change_from_base": moved}
        if args.repeats and not args.only_before:
            figures["timing"] = timing(args.before.resolve(), configurations(steps)["toy-world settings"], work, steps,
                                       args.repeats)  # fmt: skip
    if args.only_before:
        return
    figures["max_abs_difference"] = max(
        v["max_abs_difference"] for v in figures.values() if isinstance(v, dict) and "max_abs_difference" in v
    )
    write(args.name, figures)


def timing(before: Path, options: dict, work: Path, steps: int, repeats: int) -> dict:
    """Seconds per iteration of each tree, ``repeats`` runs each, alternating; the first are the compared runs."""
    runs: dict[str, list[float]] = {"before": [], "after": []}
    for repeat in range(repeats):
        for side, src in (("before", before), ("after", HERE)):
            out = work / ("toy-world_settings_" + side if repeat == 0 else f"timing_{side}_{repeat}")
            run(src, options, out)
            runs[side].append(json.loads((out / "bierase.json").read_text())["seconds"] / steps)
    medians = {side: statistics.median(seconds) for side, seconds in runs.items()}
    return {"s_per_iteration_runs": runs, "s_per_iteration": medians, "speedup": medians["before"] / medians["after"]}


if __name__ == "__main__":
    main()
