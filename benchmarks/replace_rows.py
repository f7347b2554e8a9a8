"""Replace rows of a committed benchmark results file by the rows of a rerun, and record why.

When a defect is found in how one configuration was run, only that configuration is run again (``bierase
benchmark --scenario S --run METHOD:CONFIG --output_dir DIR``); this puts its rows into the committed file
in place of the old ones. The rerun's own evaluation of the original model must give the committed file's
original row's rates, or the two were not measured on the same world, protocol and seeds, and nothing is
written. The file's ``_settings.json`` keeps a record of each replacement: which rows, why, when, the rerun's
settings and versions.

    python benchmarks/replace_rows.py benchmark_v3_star --rerun DIR --run co-erasing:captions-keep --why "..."
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from bierase.benchmark.runner import COLUMNS

RESULTS = Path(__file__).parent / "results"
RATES = ("concept_rate_explicit", "concept_rate_synonym", "concept_rate_implicit", "concept_rate_paraphrase",
         "safe_rate", "preservation")  # fmt: skip


def key(row: dict) -> tuple[str, str, str]:
    return row["scenario"], row["method"], row["config"]


def replace(name: str, rerun: Path, runs: list[str], why: str, results: Path = RESULTS) -> list[tuple]:
    """Replace the rows of ``runs`` (``method:config``) in ``results/name.json`` and ``.csv`` by the rerun's."""
    rows = json.loads((results / f"{name}.json").read_text())
    new = json.loads((rerun / "results.json").read_text())
    originals = {r["scenario"]: r for r in rows if r["method"] == "original"}
    for row in (r for r in new if r["method"] == "original"):
        kept = originals.get(row["scenario"])
        if kept is None or any(kept[rate] != row[rate] for rate in RATES):
            raise SystemExit(f"{rerun}: its original model's rates on {row['scenario']} differ from {name}.json's; "
                             "rerun on the same world, protocol and seeds")  # fmt: skip
    chosen = {tuple(run.split(":")) for run in runs}
    replacing = {key(r): r for r in new if (r["method"], r["config"]) in chosen}
    missing = chosen - {(m, c) for _, m, c in replacing}
    if missing:
        raise SystemExit(f"{rerun}: no row of {', '.join(':'.join(m) for m in sorted(missing))} in its results.json")
    absent = [k for k in replacing if k not in {key(r) for r in rows}]
    if absent:
        raise SystemExit(f"{name}.json has no row {absent[0]} to replace")
    rows = [replacing.get(key(r), r) for r in rows]
    (results / f"{name}.json").write_text(json.dumps(rows, indent=2, default=str) + "\n")
    with open(results / f"{name}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    settings_path = results / f"{name}_settings.json"
    settings = json.loads(settings_path.read_text())
    run_info = json.loads((rerun / "benchmark.json").read_text())
    settings.setdefault("replaced", []).append({"rows": [list(k) for k in replacing], "why": why, **run_info})
    settings_path.write_text(json.dumps(settings, indent=2, default=str) + "\n")
    return list(replacing)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("name", help="a results file in benchmarks/results/, without .json")
    p.add_argument("--rerun", type=Path, required=True, help="the rerun's output folder (its results.json)")
    p.add_argument("--run", action="append", required=True, dest="runs", help="method:config to replace")
    p.add_argument("--why", required=True, help="the defect the rerun corrects, for the record")
    args = p.parse_args()
    for replaced in replace(args.name, args.rerun, args.runs, args.why):
        print("replaced", *replaced)


if __name__ == "__main__":
    main()
