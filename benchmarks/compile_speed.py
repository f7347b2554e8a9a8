"""``--dynamo_backend``: the demo's Bi-Erasing compiled by torch.compile against the same run uncompiled.

Each run is a fresh process (accelerate fixes its dynamo plugin once per process), fp32, on the bundled
world. A compiled run pays its compile time in its first steps, so each setting is run at two lengths and
the difference gives the steady seconds per iteration; what the short run took beyond its steady share is
the compile time. Every run compiles cold, into an inductor cache of its own, as a first run on a machine
does (with a shared cache a later run reuses the first one's kernels and the two lengths stop measuring the
same thing). Both settings alternate, 3 times each, on an otherwise idle machine; medians. The option is
meant for GPUs; on this CPU the figures say what inductor's C++ code gives here.

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
import json, sys
from pathlib import Path
from bierase import erase
from bierase.demo import demo_config
from bierase.toyworld import model_path
options = json.loads(sys.argv[2])
out = erase(demo_config(model_path(), Path(sys.argv[1]), checkpointing_steps=0, **options))
print(json.loads((out / "bierase.json").read_text())["seconds"])
"""
REPEATS = 3


def training_seconds(folder: Path, options: dict) -> float:
    cold = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(folder) + "-inductor-cache"}
    done = subprocess.run([sys.executable, "-c", RUN, str(folder), json.dumps(options)],
                          check=True, capture_output=True, text=True, env=cold)  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--backend", default="inductor")
    p.add_argument("--repeats", type=int, default=REPEATS, help="runs of each setting and length (medians)")
    args = p.parse_args()
    short, long = (2, 6) if args.quick else (10, 60)
    settings = {"plain": {}, "compiled": {"dynamo_backend": args.backend}}
    seconds: dict = {name: {short: [], long: []} for name in settings}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for name, options in settings.items():
                for steps in (short, long):
                    folder = Path(tmp) / f"{name}-{steps}-{repeat}"
                    seconds[name][steps].append(training_seconds(folder, {**options, "max_train_steps": steps}))
                    print(f"{name} {steps} steps: {seconds[name][steps][-1]:.1f} s", flush=True)
    figures: dict = {"settings": "bierase demo (Bi-Erasing, toy-world settings, batch 4), fp32", "backend": args.backend,
                     "steps": [short, long], "repeats": args.repeats, "training_s_runs": seconds}  # fmt: skip
    for name in settings:
        first, last = (statistics.median(seconds[name][n]) for n in (short, long))
        steady = (last - first) / (long - short)
        figures[name] = {"s_per_iteration": steady, "compile_s": first - short * steady}
    figures["speedup"] = figures["plain"]["s_per_iteration"] / figures["compiled"]["s_per_iteration"]
    write("compile_speed" + ("_quick" if args.quick else ""), figures)


if __name__ == "__main__":
    main()
