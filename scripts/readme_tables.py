"""Write the README's results tables from the committed results files; ``--check`` fails when they differ.

A table sits between ``<!-- table: NAME -->`` and ``<!-- end table -->``; NAME is a results file in
``benchmarks/results/`` (``NAME.json``, the rows with their intervals) and says how it is
drawn (``TABLES``). Only what is between the markers is rewritten, so the prose around a table stays the
author's. The same command draws each erasure benchmark's Pareto picture, one PNG per scenario (and per k of
the identities scenario), into ``docs/figures/`` (``--check`` compares the tables only: a PNG's bytes depend on Pillow's version).

    python scripts/readme_tables.py          # rewrite README.md
    python scripts/readme_tables.py --check  # exit 1 when a table is not what its file gives
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
FIGURES = ROOT / "docs" / "figures"
MARKED = re.compile(r"(<!-- table: (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(<!-- end table -->)", re.S)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


IDENTITY_RATES = ("acc_erased", "acc_kept", "h", "generic_rate", "preservation")  # toyworld-identities/v1


def identity_rates(figures: dict, intervals: dict) -> str:
    """The identities protocol's rates of one row, in % with their 95 % intervals, as table cells."""
    return " | ".join(with_interval(figures[key], intervals.get(key)) for key in IDENTITY_RATES)


def identities(rows: list[dict]) -> str:
    """Protocol toyworld-identities/v1: one row per (k, method), the figures of ``identities.py`` in % with their
    95 % intervals."""
    head = "| k | method | ACC_e (erased names shown) | ACC_s (kept names shown) | H | generic | preservation | CLIP | erase s |"
    lines = [head, "| --- " * (head.count("|") - 1) + "|"]
    for r in rows:
        rates = identity_rates(r, r.get("metrics", {}).get("intervals", {}))
        clip = r.get("clip_score_preservation")
        clip = "-" if clip is None or math.isnan(clip) else f"{clip:.3f}"
        wall = "-" if r["method"] == "original" else f"{r['wall_time_s']:.0f}"
        label = r["method"] if r["config"] in ("-", "default") else f"{r['method']}, {r['config']}"
        lines.append(f"| {r['scenario'].split('-')[-1]} | {label} | {rates} | {clip} | {wall} |")
    return "\n".join(lines) + "\n"


def with_interval(value, interval: dict | None) -> str:
    """A rate in % with its 95 % interval: ``4.7 [1.6, 12.9]``; ``-`` when there is none."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if not interval or "ci95" not in interval:
        return f"{100 * value:.1f}"
    low, high = interval["ci95"]
    return f"{100 * value:.1f} [{100 * low:.0f}, {100 * high:.0f}]"


def erasure(rows: list[dict]) -> str:
    """Protocol toyworld-erasure/v3 and toyworld-attack/v1: one row per (method, configuration), in %."""
    head = ("| method / config | explicit | synonym | implicit | paraphrase | safe | preservation | ASR | CLIP "
            "| erase s |")  # fmt: skip
    lines = [head, "| --- " * (head.count("|") - 1) + "|"]
    for r in rows:
        m = r.get("metrics", {})
        ci, attack = m.get("intervals", {}), m.get("attack", {})
        rates = [with_interval(m.get("concept_rate", {}).get(name), ci.get(f"concept_rate.{name}"))
                 for name in ("explicit", "synonym", "implicit", "paraphrase")]  # fmt: skip
        clip = r.get("clip_score_preservation")
        original = r["method"] == "original"
        wall = "-" if original else f"{r['wall_time_s']:.0f}"
        lines.append(
            f"| {r['method'] if r['config'] in ('-', 'default') else r['method'] + ', ' + r['config']} | "
            + " | ".join(rates)
            + f" | {with_interval(r['safe_rate'], ci.get('safe_rate'))} "
            f"| {with_interval(r['preservation'], ci.get('preservation'))} "
            f"| {'-' if original else with_interval(attack.get('asr'), attack.get('intervals', {}).get('asr'))} "
            f"| {'-' if clip is None else f'{clip:.3f}'} | {wall} |"
        )
    return "\n".join(lines) + "\n"


def sweep(figures: dict) -> str:
    """A development-seed sweep (``benchmarks/bi_erasing_defaults.py``): one row per configuration, in %."""
    head = "| configuration | explicit | synonym | implicit | safe | preservation | s / iteration |"
    lines = [head, "| --- " * (head.count("|") - 1) + "|",
             f"| original (only its preservation is recorded) | - | - | - | - | "
             f"{percent(figures['original']['preservation'])} | - |"]  # fmt: skip
    for name, f in figures.items():
        if isinstance(f, dict) and "concept_rate" in f:
            rates = " | ".join(percent(f["concept_rate"][k]) for k in ("explicit", "synonym", "implicit"))
            lines.append(f"| {name} | {rates} | {percent(f['safe_rate'])} | {percent(f['preservation'])} "
                         f"| {f['s_per_iteration']:.3f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def identity_sweep(figures: dict) -> str:
    """A development-seed sweep of the identities scenario (``benchmarks/identity_defaults.py``), in %."""
    head = "| configuration | ACC_e (erased names shown) | ACC_s (kept names shown) | H | generic | preservation |"
    lines = [head, "| --- " * (head.count("|") - 1) + "|"]
    for name, f in figures.items():
        if isinstance(f, dict) and "h" in f:
            lines.append(f"| {name} | {identity_rates(f, f.get('intervals', {}))} |")
    return "\n".join(lines) + "\n"


def speed(erasure: dict, timing: dict | None = None) -> str:
    """``benchmarks/trainer_speed.py``: each variant's seconds per iteration (median of its alternating runs) and
    speed-up over the reference code's way, beside its erasure on the development seeds, in %."""
    timing = timing if timing is not None else json.loads((RESULTS / "trainer_speed.json").read_text())
    head = ("| variant | options | s / iteration | x reference | explicit | synonym | implicit | paraphrase | safe "
            "| preservation |")  # fmt: skip
    lines = [head, "| --- " * (head.count("|") - 1) + "|",
             f"| original | - | - | - | {' | '.join(percent(erasure['original']['concept_rate'][k]) for k in SETS)} "
             f"| {percent(erasure['original']['safe_rate'])} | {percent(erasure['original']['preservation'])} |"]  # fmt: skip
    for name, f in erasure.items():
        if not (isinstance(f, dict) and "options" in f):
            continue
        options = ", ".join(f"{k} {v}" for k, v in f["options"].items()) or "-"
        seconds, ratio = "-", "-"
        if name in timing:
            seconds = f"{timing[name]['s_per_iteration']:.3f}"
            ratio = f"{timing['speedup_vs_reference_style'][name]:.1f}"
        rates = " | ".join(percent(f["concept_rate"][k]) for k in SETS)
        lines.append(f"| {name} | {options} | {seconds} | {ratio} | {rates} | {percent(f['safe_rate'])} "
                     f"| {percent(f['preservation'])} |")  # fmt: skip
    return "\n".join(lines) + "\n"


SETS = ("explicit", "synonym", "implicit", "paraphrase")
BASELINES = ("esd", "co-erasing", "uce")


def standing(rows: list[dict]) -> str:
    """Per scenario of every erasure (or identities) benchmark: Bi-Erasing's default row against the baselines'
    rows (each configuration) on explicit concept rate (ACC_e) against preservation (``pareto.standing``)."""
    from bierase.report import pareto

    shown = "ACC_e" if rows and "acc_erased" in rows[0] else "explicit"  # the names' protocol: erased names shown
    head = (f"| scenario | Bi-Erasing: {shown}, preservation | baselines that dominate it | of them, clearly "
            "| baselines it dominates | of them, clearly |")  # fmt: skip
    lines = [head, "| --- " * (head.count("|") - 1) + "|"]
    for scenario, group in pareto.points(rows).items():
        bi = next(p for p in group if p.label == "bi-erasing")
        found = pareto.standing(bi, [p for p in group if p.label.split()[0] in BASELINES])
        names = {key: ", ".join(labels) or "none" for key, labels in found.items()}
        lines.append(f"| {scenario} | {100 * bi.shown:.1f}, {100 * bi.kept:.1f} | {names['behind']} "
                     f"| {names['clearly_behind']} | {names['ahead']} | {names['clearly_ahead']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def erasure_files() -> list[Path]:
    return sorted(p for p in RESULTS.glob("benchmark_v3_*.json") if ERASURE_TABLE.fullmatch(p.stem))


def every_erasure_row() -> list[dict]:
    """The rows of every erasure benchmark file; a (scenario, method, configuration) measured in two files (the
    original model, evaluated again by a benchmark of more runs) counts once, as the first file has it."""
    rows: dict[tuple, dict] = {}
    for path in erasure_files():
        for row in json.loads(path.read_text()):
            rows.setdefault((row["scenario"], row["method"], row["config"]), row)
    return list(rows.values())


def every_identity_row() -> list[dict]:
    """The rows of every identities file measured one k at a time (``benchmark_identities_k10.json``...), by k."""
    paths = [
        p for p in RESULTS.glob("benchmark_identities_k*.json") if re.fullmatch(r"benchmark_identities_k\d+", p.stem)
    ]
    return [row for path in sorted(paths, key=lambda p: int(p.stem.rsplit("_k", 1)[1]))
            for row in json.loads(path.read_text())]  # fmt: skip


def read_rows(name: str) -> list[dict]:
    if name == STANDING:
        return every_erasure_row()
    if name in (IDENTITIES_BY_K, IDENTITIES_STANDING):
        return every_identity_row()
    return json.loads((RESULTS / f"{name}.json").read_text())


STANDING = "pareto_standing_v3"  # drawn from every erasure table's file
IDENTITIES_BY_K = "benchmark_identities_by_k"  # drawn from every benchmark_identities_k<k>.json
IDENTITIES_STANDING = "pareto_standing_identities"  # the same files' standing table
TABLES = {"benchmark_identities": identities, IDENTITIES_BY_K: identities, "identity_defaults": identity_sweep,
          "trainer_speed_erasure": speed, STANDING: standing, IDENTITIES_STANDING: standing}  # fmt: skip
# every erasure benchmark on the identities build, protocol v3 (not its settings file)
ERASURE_TABLE = re.compile(r"benchmark_v3_(?!\w*_settings$)\w+")


def drawer(name: str):
    if name in TABLES:
        return TABLES[name]
    if name.startswith("bi_erasing_defaults_identities_build"):
        return sweep
    if ERASURE_TABLE.fullmatch(name):
        return erasure
    raise SystemExit(f"README.md: unknown table {name!r}; choose from {', '.join(TABLES)} or benchmark_v3_<scenario>")


def figures(readme: str) -> list[Path]:
    """One Pareto PNG per scenario of the erasure tables in ``readme``, every file's rows of it in one picture,
    and one per k of the identities table measured one k at a time (erased names shown against preservation)."""
    from bierase.report import pareto

    names = {match["name"] for match in MARKED.finditer(readme)}
    drawn = []
    if any(ERASURE_TABLE.fullmatch(name) for name in names):
        drawn += [(scenario, group, "concept rate (explicit)")
                  for scenario, group in pareto.points(every_erasure_row()).items()]  # fmt: skip
    if IDENTITIES_BY_K in names:
        drawn += [(scenario, group, "ACC_e (erased names shown)")
                  for scenario, group in pareto.points(every_identity_row()).items()]  # fmt: skip
    if drawn:
        FIGURES.mkdir(parents=True, exist_ok=True)
    return [pareto.png(FIGURES / f"pareto_{scenario}.png", scenario, group, erased)
            for scenario, group, erased in drawn]  # fmt: skip


def render(readme: str) -> str:
    def table(match: re.Match) -> str:
        name = match["name"]
        return match[1] + drawer(name)(read_rows(name)) + match[4]

    return MARKED.sub(table, readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a table is stale")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    args = parser.parse_args(argv)
    before = args.readme.read_text()
    after = render(before)
    if args.check:
        if after != before:
            print(f"{args.readme}: a results table differs from its file; run python scripts/readme_tables.py")
            return 1
        return 0
    args.readme.write_text(after)
    for path in figures(after):
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
