"""Running a benchmark plan: erase, evaluate on the evaluation prompts, collect one row per run."""

from __future__ import annotations

import csv
import json
import time
from pathlib import Path

from tqdm.auto import tqdm

from bierase.benchmark.memory import peak_memory
from bierase.benchmark.plan import IDENTITY_RUNS, QUICK_RUNS, RUNS, Run, identity_defaults, method_defaults
from bierase.errors import UserError
from bierase.evaluation.attack import ASR_DEFINITION, AttackConfig, run_attack
from bierase.evaluation.identities import KS
from bierase.evaluation.toyworld import SAMPLING, Evaluation, evaluate, toy_clip
from bierase.folders import new_output_dir
from bierase.methods.registry import config_class, run_method
from bierase.runinfo import write_run_info
from bierase.toyworld.vocabulary import SCENARIOS

IDENTITIES = "identities"  # the scenario of protocol toyworld-identities/v1, run at every k of IDENTITY_KS
COLUMNS = ("method", "config", "scenario", "verdict", "concept_rate_explicit", "concept_rate_synonym",
           "concept_rate_implicit", "concept_rate_paraphrase", "safe_rate", "preservation", "preservation_relative", "agreement_with_original",
           "frechet_to_original", "pre_asr", "asr", "clip_score_preservation", "wall_time_s", "peak_memory_mb", "steps", "acc_erased", "acc_kept", "h",
           "generic_rate")  # fmt: skip


def select_runs(plan: tuple[Run, ...], selectors: list[str] | None) -> tuple[Run, ...]:
    """The plan's runs named by ``method`` (all its configurations) or ``method:config``; all when none given."""
    if not selectors:
        return plan
    names = {f"{r.method}:{r.config}" for r in plan}
    unknown = [s for s in selectors if s not in names and s not in {r.method for r in plan}]
    if unknown:
        raise UserError(f"--run {unknown[0]} is not in the plan; choose from {', '.join(sorted(names))}")
    return tuple(r for r in plan if r.method in selectors or f"{r.method}:{r.config}" in selectors)


def settings(quick: bool, scenarios: list[str] | None = None, runs: list[str] | None = None) -> dict:
    one_k = {f"{IDENTITIES}-{k}": k for k in KS}  # the identities scenario at one k only
    known = [*SCENARIOS, IDENTITIES, *one_k]
    unknown = sorted(set(scenarios or []) - set(known))
    if unknown:
        raise UserError(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(known)}")
    if quick:
        plan = {"runs": QUICK_RUNS, "scenarios": ["nudity"], "steps": 30, "references": 8, "eval_samples": 16,
                "attack": AttackConfig(prompts=4, steps=3), "identity_ks": (1, 10), "identity_references": 2}  # fmt: skip
    else:
        # the identities scenario runs when asked for (--scenario identities): k = 100 generates 100 reference sets
        plan = {"runs": RUNS, "scenarios": list(SCENARIOS), "steps": 300, "references": 32, "eval_samples": 64,
                "attack": AttackConfig(prompts=24, steps=30), "identity_ks": KS, "identity_references": 8}  # fmt: skip
    ks = tuple(sorted(one_k[s] for s in set(scenarios or []) & set(one_k)))
    if ks:
        plan["identity_ks"] = ks
        scenarios = list(dict.fromkeys(IDENTITIES if s in one_k else s for s in scenarios))
    return {
        **plan,
        "scenarios": scenarios or plan["scenarios"],
        "runs": select_runs(plan["runs"], runs),
        "quick": quick,
    }


def run_benchmark(
    output_dir: str | Path,
    quick: bool = False,
    model: str | None = None,
    scenarios: list[str] | None = None,
    runs: list[str] | None = None,
) -> list[dict]:
    from diffusers import UNet2DConditionModel

    from bierase.toyworld import load_judge, load_pipeline, model_path

    plan = settings(quick, scenarios, runs)
    out = new_output_dir(output_dir)
    model = str(model or model_path())
    plan["model"] = model
    pipe, judge = load_pipeline(model), load_judge(model)
    base_unet = pipe.unet
    clip = toy_clip(model)
    original_pipe = load_pipeline(model)  # the attack's targets come from the model before erasure
    rows: list[dict] = []
    for scenario_name in plan["scenarios"]:
        if scenario_name == IDENTITIES:
            rows += run_identities(out, pipe, judge, clip, plan, rows)
            continue
        scenario = SCENARIOS[scenario_name]
        original = evaluate(pipe, judge, scenario, plan["eval_samples"], SAMPLING, clip=clip)
        rows.append(_row(Run("original", "-"), scenario_name, original, 0.0, float("nan"), 0))
        for run in tqdm(plan["runs"], desc=f"benchmark {scenario_name}"):
            run_dir = out / "runs" / scenario_name / f"{run.method}-{run.config}"
            options = method_defaults(run.method, scenario, plan["steps"], plan["references"], run.toy_world)
            config = config_class(run.method)(
                pretrained_model_name_or_path=model, output_dir=str(run_dir), **{**options, **run.overrides}
            )
            started = time.perf_counter()
            with peak_memory() as memory:
                run_method(run.method, config)
            wall = time.perf_counter() - started
            pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(run_dir / "unet"))
            erased = evaluate(pipe, judge, scenario, plan["eval_samples"], SAMPLING, original=original, clip=clip)
            erased.metrics["attack"] = run_attack(pipe, original_pipe, judge, scenario, plan["attack"], SAMPLING)
            pipe.register_modules(unet=base_unet)
            rows.append(_row(run, scenario_name, erased, wall, memory["mb"], getattr(config, "max_train_steps", 0)))
            _write(out, rows, plan, quick)
    _write(out, rows, plan, quick)
    return rows


def run_identities(out: Path, pipe, judge, clip, plan: dict, done: list[dict]) -> list[dict]:
    """Protocol toyworld-identities/v1: each method erases k names at once, for each k; one row per (k, method)."""
    from diffusers import UNet2DConditionModel

    from bierase.evaluation import identities

    rows, base_unet, n = [], pipe.unet, plan["eval_samples"]
    runs = [r for r in IDENTITY_RUNS if r in plan["runs"]] or list(IDENTITY_RUNS)
    for k in plan["identity_ks"]:
        scenario = f"{IDENTITIES}-{k}"
        original = identities.evaluate(pipe, judge, k, n, SAMPLING, clip=clip)
        rows.append(_identity_row(Run("original", "-"), scenario, original.metrics, 0.0, float("nan"), 0))
        for run in tqdm(runs, desc=f"benchmark {scenario}"):
            run_dir = out / "runs" / scenario / f"{run.method}-{run.config}"
            options = identity_defaults(run.method, k, plan["steps"], plan["identity_references"], run.toy_world)
            config = config_class(run.method)(pretrained_model_name_or_path=str(plan["model"]),
                                              output_dir=str(run_dir), **{**options, **run.overrides})  # fmt: skip
            started = time.perf_counter()
            with peak_memory() as memory:
                run_method(run.method, config)
            wall = time.perf_counter() - started
            pipe.register_modules(unet=UNet2DConditionModel.from_pretrained(run_dir / "unet"))
            erased = identities.evaluate(pipe, judge, k, n, SAMPLING, clip=clip)
            pipe.register_modules(unet=base_unet)
            steps = getattr(config, "max_train_steps", 0)
            rows.append(_identity_row(run, scenario, erased.metrics, wall, memory["mb"], steps))
            _write(out, done + rows, plan, plan["quick"])
    return rows


def _identity_row(run: Run, scenario: str, m: dict, wall: float, memory_mb: float, steps: int) -> dict:
    return {
        "method": run.method, "config": run.config, "scenario": scenario, "acc_erased": m["acc_erased"],
        "acc_kept": m["acc_kept"], "h": m["h"], "generic_rate": m["generic_rate"], "preservation": m["preservation"],
        "clip_score_preservation": m.get("clip_score", {}).get("preservation", {}).get("cosine"),
        "wall_time_s": round(wall, 1), "peak_memory_mb": round(memory_mb, 1), "steps": steps, "metrics": m,
    }  # fmt: skip


def _row(run: Run, scenario: str, evaluation: Evaluation, wall: float, memory_mb: float, steps: int) -> dict:
    m = evaluation.metrics
    rates = m["concept_rate"]
    return {
        "method": run.method, "config": run.config, "scenario": scenario, "verdict": m["verdict"],
        "concept_rate_explicit": rates.get("explicit"), "concept_rate_synonym": rates.get("synonym"),
        "concept_rate_implicit": rates.get("implicit"), "concept_rate_paraphrase": rates.get("paraphrase"),
        "safe_rate": m["safe_rate"],
        "preservation": m["preservation"], "preservation_relative": m.get("preservation_relative"),
        "agreement_with_original": m.get("agreement_with_original"),
        "frechet_to_original": m.get("frechet_to_original"),
        "pre_asr": m.get("attack", {}).get("pre_asr"), "asr": m.get("attack", {}).get("asr"),
        "clip_score_preservation": m.get("clip_score", {}).get("preservation", {}).get("cosine"),
        "wall_time_s": round(wall, 1),
        "peak_memory_mb": round(memory_mb, 1), "steps": steps, "metrics": m,
    }  # fmt: skip


def _write(out: Path, rows: list[dict], plan: dict, quick: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
    with open(out / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    write_run_info(out, {"quick": quick, **{k: v for k, v in plan.items() if k not in ("runs", "attack")},
                         "runs": [r.__dict__ for r in plan["runs"]], "attack": plan["attack"].__dict__},
                   name="benchmark.json")  # fmt: skip


def table(rows: list[dict]) -> str:
    def pct(v) -> str:
        return "-" if v is None else f"{100 * v:5.1f}"

    def num(v) -> str:
        return "-" if v is None else f"{v:.3f}"

    identity = [r for r in rows if "acc_erased" in r]
    rows = [r for r in rows if "acc_erased" not in r]
    lines = [f"{'scenario':10} {'method':11} {'config':18} {'explicit':>8} {'synonym':>8} {'implicit':>8} "
             f"{'paraphr':>8} {'safe':>6} {'preserv':>7} {'ASR':>6} {'CLIP':>6} {'time s':>7}  verdict"]  # fmt: skip
    for r in rows:
        lines.append(
            f"{r['scenario']:10} {r['method']:11} {r['config']:18} {pct(r['concept_rate_explicit']):>8} "
            f"{pct(r['concept_rate_synonym']):>8} {pct(r['concept_rate_implicit']):>8} "
            f"{pct(r.get('concept_rate_paraphrase')):>8} {pct(r['safe_rate']):>6} "
            f"{pct(r['preservation']):>7} {pct(r.get('asr')):>6} {num(r.get('clip_score_preservation')):>6} "
            f"{r['wall_time_s']:7.1f}  {r['verdict']}"
        )
    lines.append(
        "explicit/synonym/implicit/paraphr(ase): concept rate; safe: safe-alternative rate; preserv: attribute accuracy"
    )
    lines.append(f"ASR: {ASR_DEFINITION}; CLIP: toy CLIP cosine on the preservation prompts")
    if identity:
        lines.append(f"\n{'scenario':14} {'method':11} {'ACC_e':>6} {'ACC_s':>6} {'H':>6} {'generic':>8} {'preserv':>7} "
                     f"{'CLIP':>6} {'time s':>7}")  # fmt: skip
        for r in identity:
            lines.append(
                f"{r['scenario']:14} {r['method']:11} {pct(r['acc_erased']):>6} {pct(r['acc_kept']):>6} "
                f"{pct(r['h']):>6} {pct(r['generic_rate']):>8} {pct(r['preservation']):>7} "
                f"{num(r.get('clip_score_preservation')):>6} {r['wall_time_s']:7.1f}"
            )
        lines.append("ACC_e / ACC_s: erased / kept names shown; H: their harmonic mean (1 - ACC_e, ACC_s); "
                     "generic: erased names drawn as 'a person' (toyworld-identities/v1)")  # fmt: skip
    return "\n".join(lines)
