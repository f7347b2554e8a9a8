"""ESD seconds per iteration: its own objective against ESD as it was, in one process.

ESD used to be a configuration of Bi-Erasing's trainer: the text-only Bi-Erasing term with its positive
branch weighted zero, so each step paid four teacher and two student UNet conditions. Now it is its own
objective: two teacher conditions and one student condition. The former way is rebuilt here from
Bi-Erasing's term (text only, the positive weight 1e-30 so that the branch is still computed), with the same shared options: ESD-x on the bundled toy world
with the benchmark's settings (``trained_defaults``). The runs alternate, three of each, and each figure is
a median; the erased weights of the two differ only by the zero-weighted branch.

    python benchmarks/esd_speed.py [--quick]
"""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path

from common import parser, write

from bierase.benchmark.plan import trained_defaults
from bierase.erasing.run import erase
from bierase.methods.bi_erasing import BiErasingConfig
from bierase.methods.bi_erasing.objective import BiErasingTerm
from bierase.methods.esd import ESDConfig
from bierase.methods.esd.objective import objective
from bierase.toyworld import model_path
from bierase.toyworld.vocabulary import SCENARIOS

REPEATS = 3


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    steps = 10 if args.quick else 60
    scenario = SCENARIOS["nudity"]
    shared = trained_defaults(scenario, steps)
    seconds: dict[str, list[float]] = {"esd": [], "former_esd": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(REPEATS):
            for name in seconds:
                options = {**shared, "pretrained_model_name_or_path": str(model_path()),
                           "output_dir": str(Path(tmp) / f"{name}-{repeat}")}  # fmt: skip
                if name == "esd":
                    config = ESDConfig(**options)
                    out = erase(config, objective(config), "esd")
                else:
                    # ESD's positive concept was the empty prompt; any text costs the same UNet calls
                    config = BiErasingConfig(**options, image_conditioning=False, lambda_neg=1.0, lambda_pos=1e-30,
                                             positive_concept=scenario.safe_words[0])  # fmt: skip
                    out = erase(config, [BiErasingTerm(config)], "former-esd")
                seconds[name].append(json.loads((out / "bierase.json").read_text())["seconds"] / steps)
    per_iteration = {name: statistics.median(values) for name, values in seconds.items()}
    write("esd_speed", {
        "scenario": scenario.name, "max_train_steps": steps, "repeats": REPEATS, "options": shared,
        "s_per_iteration": per_iteration, "runs_s_per_iteration": seconds,
        "speedup": per_iteration["former_esd"] / per_iteration["esd"],
    })  # fmt: skip


if __name__ == "__main__":
    main()
