"""Bi-Erasing's toy-world settings: erasure, safe rate and preservation, on the development seeds only.

How ``bi_erasing_defaults`` (``bierase.benchmark.plan``) was chosen: each named
configuration erases the nudity-like scenario from ``trained_defaults`` and is
judged on the development prompt sets (toyworld DEV_SEED), never on the
reported ones. Besides the protocol's metrics it records the per-attribute
preservation and what the explicit prompts show instead of the concept.

    python benchmarks/bi_erasing_defaults.py [--quick]   # about 40 min; --quick: 2 configurations, 20 steps
    python benchmarks/bi_erasing_defaults.py --sweep identities-build   # about 20 min on an AMX Xeon
    python benchmarks/bi_erasing_defaults.py --sweep identities-build-steer   # the second round, 15 min
    python benchmarks/bi_erasing_defaults.py --sweep identities-build-steer-2   # the third round, 10 min
    python benchmarks/bi_erasing_defaults.py --sweep every-scenario --scenario star   # the chosen settings elsewhere
    python benchmarks/bi_erasing_defaults.py --sweep style   # the style scenario's own round
    python benchmarks/bi_erasing_defaults.py --sweep style-budget   # the style scenario's shared budget moved

The first sweep chose the settings on build 5316759 (``bi_erasing_defaults.json``); on the identities
build those settings stopped erasing (``demo_identities_build.json``), so the second sweep
(``bi_erasing_defaults_identities_build.json``) chooses them again on that build, around the first choice.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np
from common import parser, write
from diffusers import UNet2DConditionModel

from bierase import erase
from bierase.benchmark.plan import method_defaults
from bierase.evaluation.toyworld import DEV_SEED, SAMPLING, evaluate, retain_prompts
from bierase.methods.bi_erasing.config import BiErasingConfig
from bierase.toyworld import load_judge, load_pipeline, model_path
from bierase.toyworld.vocabulary import SCENARIOS
from bierase.toyworld.world import LABELS

CAPTIONS = {"concept": "a nude shape", "positive_concept": "a clothed shape", "reference_prompt": "{concept}"}
STEER = {"positive_text": "concept", "eta_pos": 3.0}  # the concept's caption steered to the safe alternative
CONFIGURATIONS = {
    "paper (bare words, [c_pos; I+])": {},
    "positive_text concept": {"positive_text": "concept"},
    "positive_text concept, eta_pos 3": STEER,
    "captions": CAPTIONS,
    "captions, steered": {**CAPTIONS, **STEER},
    "captions, steered, keep 64 captions x1": {**CAPTIONS, **STEER, "retain": 64, "lambda_preserve": 1.0},
    "captions, steered, keep empty x1": {**CAPTIONS, **STEER, "preserve_prompts": [""], "lambda_preserve": 1.0},
    "captions, steered, keep empty x5": {**CAPTIONS, **STEER, "preserve_prompts": [""], "lambda_preserve": 5.0},
    "captions, steered, keep empty x20": {**CAPTIONS, **STEER, "preserve_prompts": [""], "lambda_preserve": 20.0},
    "captions, steered, keep empty x50": {**CAPTIONS, **STEER, "preserve_prompts": [""], "lambda_preserve": 50.0},
    "captions, steered, keep empty x100": {**CAPTIONS, **STEER, "preserve_prompts": [""], "lambda_preserve": 100.0},
    # half the preservation draws the empty prompt, half one of 16 captions
    "captions, steered, keep empty + 16 captions x20": {
        **CAPTIONS,
        **STEER,
        "preserve_prompts": [""] * 16,
        "retain": 16,
        "lambda_preserve": 20.0,
    },
    "captions, steered, keep empty + 16 captions x50": {
        **CAPTIONS,
        **STEER,
        "preserve_prompts": [""] * 16,
        "retain": 16,
        "lambda_preserve": 50.0,
    },
    "captions, steered, keep empty x30": {**CAPTIONS, **STEER, "preserve_prompts": [""], "lambda_preserve": 30.0},
}


CHOSEN = "captions, steered, keep empty + 16 captions x20"  # chosen on build 5316759


def keep(empty: int, captions: int, weight: float, **more) -> dict:
    return {
        **CAPTIONS,
        **STEER,
        "preserve_prompts": [""] * empty,
        "retain": captions,
        "lambda_preserve": weight,
        **more,
    }


# the identities build: the preservation weight lowered past the cliff the first sweep found (x20 kept
# everything and erased little on this build), and the shared rate raised, around the first choice
IDENTITIES_BUILD = {
    "paper (bare words, [c_pos; I+])": {},
    "captions, steered": {**CAPTIONS, **STEER},
    CHOSEN: keep(16, 16, 20.0),
    "captions, steered, keep empty + 16 captions x10": keep(16, 16, 10.0),
    "captions, steered, keep empty + 16 captions x5": keep(16, 16, 5.0),
    "captions, steered, keep empty x5": keep(1, 0, 5.0),
    "captions, steered, keep empty x20": keep(1, 0, 20.0),
    "captions, steered, keep empty + 16 captions x20, lr 2e-4": keep(16, 16, 20.0, learning_rate=2e-4),
}
# the identities build, second round: the first round erased (x5: explicit 8.3 %) but steered few images to
# the safe alternative (safe <= 37.5 %, the rest drawn in ordinary colours), so the positive branch is pushed
IDENTITIES_BUILD_STEER = {
    "keep empty + 16 captions x5, eta_pos 6": keep(16, 16, 5.0, eta_pos=6.0),
    "keep empty + 16 captions x5, eta_pos 10": keep(16, 16, 5.0, eta_pos=10.0),
    "keep empty + 16 captions x5, lambda_pos 0.7": keep(16, 16, 5.0, lambda_neg=0.3, lambda_pos=0.7),
    "keep empty + 16 captions x10, eta_pos 6": keep(16, 16, 10.0, eta_pos=6.0),
    "keep empty + 16 captions x10, eta_pos 10": keep(16, 16, 10.0, eta_pos=10.0),
    "keep empty + 16 captions x5, eta_pos 6, lr 2e-4": keep(16, 16, 5.0, eta_pos=6.0, learning_rate=2e-4),
}
# the identities build, third round, from the chosen settings (``toy_world``: ``bi_erasing_defaults``): the
# second round's safe rate rose with eta_pos (50 -> 76 % at lr 1e-4) but erased less; the chosen rate 2e-4
# erased, so eta_pos 10 is tried at it, and at a rate higher again
IDENTITIES_BUILD_STEER_2 = {
    "chosen, eta_pos 10": {"toy_world": True, "eta_pos": 10.0},
    "chosen, eta_pos 10, lr 3e-4": {"toy_world": True, "eta_pos": 10.0, "learning_rate": 3e-4},
}
# the settings chosen on the nudity scenario, and the paper's form, on another scenario's development seeds:
# whether one configuration holds on every scenario (issue "Results that stand")
EVERY_SCENARIO = {"paper (bare words, [c_pos; I+])": {}, "chosen": {"toy_world": True}}
# the style scenario, from the chosen settings: on its development seeds they left the concept on 43.8 % of
# the explicit prompts (every-scenario sweep), so Bi-Erasing's own weights are moved toward erasing: less
# preservation, or more of the negative branch (the shared budget, rate and eta_neg, stays every method's)
STYLE = {
    "chosen, keep x1": {"toy_world": True, "lambda_preserve": 1.0},
    "chosen, lambda_neg 0.9, lambda_pos 0.1": {"toy_world": True, "lambda_neg": 0.9, "lambda_pos": 0.1},
}
# the style scenario, the shared budget moved (the issue allows one budget per kind of task, given to every
# trained method): Bi-Erasing's own weights did not erase the pattern (above), so the budget erases harder,
# a higher rate, or twice the steps at the same rate
STYLE_BUDGET = {
    "chosen, lr 4e-4": {"toy_world": True, "learning_rate": 4e-4},
    "chosen, 600 steps": {"toy_world": True, "max_train_steps": 600},
}
# name: (configurations, results file, scenario; None: the one --scenario names)
SWEEPS = {"build-5316759": (CONFIGURATIONS, "bi_erasing_defaults", "nudity"),
          "identities-build": (IDENTITIES_BUILD, "bi_erasing_defaults_identities_build", "nudity"),
          "identities-build-steer": (IDENTITIES_BUILD_STEER, "bi_erasing_defaults_identities_build_steer", "nudity"),
          "identities-build-steer-2": (IDENTITIES_BUILD_STEER_2, "bi_erasing_defaults_identities_build_steer_2", "nudity"),
          "every-scenario": (EVERY_SCENARIO, "bi_erasing_defaults_identities_build_{scenario}", None),
          "style": (STYLE, "bi_erasing_defaults_identities_build_style", "checkered"),
          "style-budget": (STYLE_BUDGET, "bi_erasing_defaults_identities_build_style_budget", "checkered")}  # fmt: skip


def options_for(configuration: dict, scenario, steps: int) -> dict:
    """A configuration's options: its overrides on the paper's form, or on the chosen toy-world settings
    where it says ``toy_world``; ``retain`` n adds n unrelated captions to the preservation prompts."""
    configuration = dict(configuration)
    toy_world = configuration.pop("toy_world", False)
    options = {**method_defaults("bi-erasing", scenario, steps, 32, toy_world=toy_world), **configuration}
    if "retain" in options:
        options["preserve_prompts"] = options.get("preserve_prompts", []) + retain_prompts(
            scenario, options.pop("retain")
        )
    return options


def per_attribute(evaluation) -> dict[str, float]:
    prompt_set, labels = evaluation.sets["preservation"], evaluation.labels["preservation"]
    return {a: float(np.mean([labels[a][i] == getattr(s, a) for i, s in enumerate(prompt_set.specs)])) for a in LABELS}


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--sweep", choices=list(SWEEPS), default="build-5316759")
    p.add_argument("--scenario", choices=list(SCENARIOS), default=None, help="only with --sweep every-scenario")
    args = p.parse_args()
    configurations, result_name, scenario_name = SWEEPS[args.sweep]
    if args.scenario and scenario_name and args.scenario != scenario_name:
        p.error(f"--scenario {args.scenario}: the {args.sweep} sweep is on the {scenario_name} scenario; "
                "use --sweep every-scenario")  # fmt: skip
    scenario_name = scenario_name or args.scenario or "nudity"
    result_name = result_name.format(scenario=scenario_name)
    names = list(configurations)
    if args.quick:
        names = names[:1] + [CHOSEN] if args.sweep == "build-5316759" else names[:1]
    steps, samples = (20, 16) if args.quick else (300, 48)
    scenario, model = SCENARIOS[scenario_name], str(model_path())
    sampling = SAMPLING
    pipe, judge = load_pipeline(model), load_judge(model)
    base = pipe.unet
    original = evaluate(pipe, judge, scenario, samples, sampling, seed=DEV_SEED)
    figures: dict = {"sweep": args.sweep, "scenario": scenario.name, "max_train_steps": steps, "eval_samples": samples, "seed": DEV_SEED,
                     "original": {"preservation": original.metrics["preservation"],
                                  "preservation_by_attribute": per_attribute(original)}}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        for i, name in enumerate(names):
            options = options_for(configurations[name], scenario, steps)
            out = erase(BiErasingConfig(pretrained_model_name_or_path=model, output_dir=f"{tmp}/{i}", **options))
            seconds = json.loads((Path(out) / "bierase.json").read_text())["seconds"]
            pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(Path(out) / "unet"))
            evaluation = evaluate(pipe, judge, scenario, samples, sampling, seed=DEV_SEED, original=original)
            pipe.register_modules(unet=base)
            m = evaluation.metrics
            figures[name] = {"options": configurations[name], "s_per_iteration": seconds / options["max_train_steps"], "concept_rate": m["concept_rate"],
                             "safe_rate": m["safe_rate"], "preservation": m["preservation"],
                             "preservation_by_attribute": per_attribute(evaluation),
                             "explicit_shows": dict(Counter(evaluation.labels["explicit"][scenario.attribute]))}  # fmt: skip
    write(result_name + ("_quick" if args.quick else ""), figures)  # a quick run never replaces a real file


if __name__ == "__main__":
    main()
