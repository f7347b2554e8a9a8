"""``--dynamo_backend``: the demo's Bi-Erasing compiled by torch.compile against the same run uncompiled.

Each run is a fresh process (accelerate fixes its dynamo plugin once per process), fp32, on the bundled
world, and compiles cold, into an inductor cache of its own, as a first run on a machine does. The run
records when each step starts: the steady seconds per iteration are the median step of its second half, and
the compile time is what the run took beyond its steps at that pace (a cold compile varies by more than
whole runs of steps, so two run lengths cannot tell it apart). The settings alternate, ``--repeats`` times
each, on an otherwise idle machine; medians. The option is meant for GPUs; on this CPU the figures say what
inductor's C++ code gives here.

    python benchmarks/compile_speed.py [--backend inductor] [--repeats 3] [--quick]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import parser, write

RUN = """
import json, sys, time
from pathlib import Path
from bierase import erase
from bierase.demo import demo_config
from bierase.erasing.trainer import Trainer
from bierase.toyworld import model_path

starts, losses = [], Trainer.losses
def timed(self, *args, **kwargs):  # when each step starts (the benchmark's probe, not the library's)
    starts.append(time.perf_counter())
    return losses(self, *args, **kwargs)
Trainer.losses = timed
options = json.loads(sys.argv[2])
out = erase(demo_config(model_path(), Path(sys.argv[1]), checkpointing_steps=0, **options))
print(json.dumps({"seconds": json.loads((out / "bierase.json").read_text())["seconds"], "starts": starts}))
"""
REPEATS = 3


def one_run(folder: Path, options: dict) -> dict:
    """A run in a fresh process compiling cold: its training seconds, steady seconds per step, compile time."""
    cold = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(folder) + "-inductor-cache"}
    done = subprocess.run([sys.executable, "-c", RUN, str(folder), json.dumps(options)],
                          check=True, capture_output=True, text=True, env=cold)  # fmt: skip
    run = json.loads(done.stdout.strip().splitlines()[-1])
    starts = run["starts"]
    steps = [b - a for a, b in zip(starts, starts[1:])]
    steady = statistics.median(steps[len(steps) // 2 :])
    return {"training_s": run["seconds"], "s_per_iteration": steady,
            "compile_s": run["seconds"] - len(starts) * steady, "first_step_s": steps[0]}  # fmt: skip


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--backend", default="inductor")
    p.add_argument("--repeats", type=int, default=REPEATS, help="runs of each setting (medians)")
    args = p.parse_args()
    steps = 6 if args.quick else 60
    settings = {"plain": {}, "compiled": {"dynamo_backend": args.backend}}
    runs: dict = {name: [] for name in settings}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for name, options in settings.items():
                runs[name].append(one_run(Path(tmp) / f"{name}-{repeat}", {**options, "max_train_steps": steps}))
                print(name, runs[name][-1], flush=True)
    figures: dict = {"settings": "bierase demo (Bi-Erasing, toy-world settings, batch 4), fp32", "backend": args.backend,
                     "steps": steps, "repeats": args.repeats, "runs": runs,
                     "threads": os.environ.get("OMP_NUM_THREADS", "all")}  # fmt: skip
    for name in settings:
        figures[name] = {key: statistics.median(r[key] for r in runs[name]) for key in ("s_per_iteration", "compile_s")}
    figures["speedup"] = figures["plain"]["s_per_iteration"] / figures["compiled"]["s_per_iteration"]
    write("compile_speed" + ("_quick" if args.quick else ""), figures)


if __name__ == "__main__":
    main()
