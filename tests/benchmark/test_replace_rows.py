"""benchmarks/replace_rows.py: a rerun's rows replace a committed file's, only on the same world and protocol."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("replace_rows", ROOT / "benchmarks" / "replace_rows.py")
replace_rows = importlib.util.module_from_spec(spec)
spec.loader.exec_module(replace_rows)


def row(method, config, explicit, scenario="star"):
    rates = dict.fromkeys(replace_rows.RATES, 0.5)
    return {"method": method, "config": config, "scenario": scenario, **rates, "concept_rate_explicit": explicit}


def files(tmp_path, rerun_original=1.0):
    results, rerun = tmp_path / "results", tmp_path / "rerun"
    results.mkdir(parents=True), rerun.mkdir()
    committed = [row("original", "-", 1.0), row("esd", "default", 0.0), row("co-erasing", "captions-keep", 0.6)]
    (results / "bench.json").write_text(json.dumps(committed))
    (results / "bench_settings.json").write_text(json.dumps({"config": {"runs": []}}))
    new = [row("original", "-", rerun_original), row("co-erasing", "captions-keep", 0.1)]
    (rerun / "results.json").write_text(json.dumps(new))
    (rerun / "benchmark.json").write_text(json.dumps({"config": {"runs": ["co-erasing:captions-keep"]}, "time": "t"}))
    return results, rerun


def test_a_rerun_row_replaces_the_committed_one_and_the_replacement_is_recorded(tmp_path):
    results, rerun = files(tmp_path)
    replaced = replace_rows.replace("bench", rerun, ["co-erasing:captions-keep"], "the defect", results)
    assert replaced == [("star", "co-erasing", "captions-keep")]
    rows = json.loads((results / "bench.json").read_text())
    assert [r["concept_rate_explicit"] for r in rows] == [1.0, 0.0, 0.1]  # in place, the others untouched
    assert (results / "bench.csv").read_text().splitlines()[3].startswith("co-erasing,captions-keep,star,")
    record = json.loads((results / "bench_settings.json").read_text())["replaced"]
    assert record == [{"rows": [["star", "co-erasing", "captions-keep"]], "why": "the defect",
                       "config": {"runs": ["co-erasing:captions-keep"]}, "time": "t"}]  # fmt: skip


def test_a_rerun_on_another_world_or_protocol_is_refused_and_nothing_is_written(tmp_path):
    results, rerun = files(tmp_path, rerun_original=0.9)  # its original model draws the concept less often
    before = (results / "bench.json").read_text()
    with pytest.raises(SystemExit, match="differ from bench.json's"):
        replace_rows.replace("bench", rerun, ["co-erasing:captions-keep"], "the defect", results)
    assert (results / "bench.json").read_text() == before and not (results / "bench.csv").exists()
    results, rerun = files(tmp_path / "again")
    with pytest.raises(SystemExit, match="no row of esd:full"):  # a row the rerun does not have
        replace_rows.replace("bench", rerun, ["esd:full"], "the defect", results)
