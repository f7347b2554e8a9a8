"""README results tables are drawn from the committed results files (scripts/readme_tables.py)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("readme_tables", ROOT / "scripts" / "readme_tables.py")
readme_tables = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_tables)


def test_the_readme_tables_are_what_their_files_give():
    assert readme_tables.main(["--check"]) == 0
    assert "<!-- table: benchmark_identities -->" in (ROOT / "README.md").read_text()


def test_a_table_typed_by_hand_is_caught_and_rewritten(tmp_path):
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    start = text.index("<!-- table: benchmark_identities -->")
    row = text.index("| 1 |", start)
    readme.write_text(text[:row] + "| 1 | bi-erasing | 0.0 | 100.0 |" + text[text.index("\n", row) :])
    assert readme_tables.main(["--check", "--readme", str(readme)]) == 1  # the control: a hand-typed row fails
    assert readme_tables.main(["--readme", str(readme)]) == 0
    assert readme.read_text() == text  # rewritten from the file, the prose around it untouched


def test_an_erasure_row_carries_every_figure_with_its_interval():
    ci = {"ci95": [0.01, 0.2]}
    metrics = {"concept_rate": {"explicit": 0.05, "synonym": 0.1, "implicit": 0.0, "paraphrase": 0.02},
               "intervals": {"concept_rate.explicit": ci, "concept_rate.synonym": ci, "concept_rate.implicit": ci,
                             "concept_rate.paraphrase": ci, "safe_rate": ci, "preservation": ci},
               "attack": {"asr": 0.125, "intervals": {"asr": ci}}}  # fmt: skip
    row = {"method": "esd", "config": "captions-keep", "safe_rate": 0.9, "preservation": 0.8,
           "clip_score_preservation": 0.7, "wall_time_s": 91.4, "metrics": metrics}  # fmt: skip
    line = readme_tables.erasure([row]).splitlines()[2]
    assert line.startswith("| esd, captions-keep | 5.0 [1, 20] | 10.0 [1, 20] | 0.0 [1, 20] | 2.0 [1, 20] |")
    assert line.count("[1, 20]") == 7 and line.endswith("| 0.700 | 91 |")
    del metrics["intervals"]["preservation"]  # control: a figure without its interval shows as a bare number
    assert "| 80.0 |" in readme_tables.erasure([row])


def test_a_speed_row_puts_each_variants_timing_beside_its_erasure():
    rates = {"concept_rate": {"explicit": 0.02, "synonym": 0.0, "implicit": 0.04, "paraphrase": 0.0},
             "safe_rate": 0.6, "preservation": 0.97}  # fmt: skip
    erasure = {"original": {**rates, "concept_rate": dict.fromkeys(rates["concept_rate"], 1.0)},
               "default": {"options": {}, **rates}, "reuse_4": {"options": {"rollout_reuse": 4}, **rates}}  # fmt: skip
    timing = {"default": {"s_per_iteration": 0.25}, "speedup_vs_reference_style": {"default": 7.6}}
    lines = readme_tables.speed(erasure, timing).splitlines()
    assert lines[2].startswith("| original | - | - | - | 100.0 | 100.0 | 100.0 | 100.0 |")
    assert lines[3] == "| default | - | 0.250 | 7.6 | 2.0 | 0.0 | 4.0 | 0.0 | 60.0 | 97.0 |"
    assert lines[4].startswith("| reuse_4 | rollout_reuse 4 | - | - | 2.0 |")  # control: not timed, no figure


def test_the_standing_table_names_the_baselines_on_each_side_of_bi_erasing():
    def row(method, config, shown, kept, scenario="star", width=0.02):
        ci = {"concept_rate.explicit": {"ci95": [shown - width, shown + width]},
              "preservation": {"ci95": [kept - width, kept + width]}}  # fmt: skip
        return {"method": method, "config": config, "scenario": scenario, "concept_rate_explicit": shown,
                "preservation": kept, "metrics": {"intervals": ci}}  # fmt: skip

    rows = [row("original", "-", 1.0, 0.99), row("bi-erasing", "default", 0.1, 0.95),
            row("bi-erasing", "paper", 0.0, 0.99), row("esd", "default", 0.3, 0.9),
            row("esd", "captions-keep", 0.11, 0.94), row("uce", "default", 0.05, 0.97)]  # fmt: skip
    line = readme_tables.standing(rows).splitlines()[2]
    # Bi-Erasing's own ablations and the original are not baselines; a lead within the intervals is not clear
    assert line == "| star | 10.0, 95.0 | uce | uce | esd, esd captions-keep | esd |"
    rows[-1] = row("uce", "default", 0.05, 0.97, width=0.2)  # control: wide intervals make uce's lead unclear
    assert (
        readme_tables.standing(rows).splitlines()[2]
        == "| star | 10.0, 95.0 | uce | none | esd, esd captions-keep | esd |"
    )


def test_every_erasure_file_joins_one_picture_per_scenario_counting_a_row_once(tmp_path, monkeypatch):
    def row(method, config, scenario, shown):
        return {"method": method, "config": config, "scenario": scenario, "concept_rate_explicit": shown,
                "preservation": 0.9, "metrics": {"intervals": {}}}  # fmt: skip

    (tmp_path / "benchmark_v3_nudity.json").write_text(json.dumps([row("original", "-", "nudity", 1.0),
                                                                   row("bi-erasing", "default", "nudity", 0.1)]))  # fmt: skip
    (tmp_path / "benchmark_v3_nudity_ablations.json").write_text(
        json.dumps([row("original", "-", "nudity", 0.99), row("esd", "full", "nudity", 0.0)])
    )
    (tmp_path / "benchmark_v3_nudity_settings.json").write_text(json.dumps({"not": "rows"}))  # not an erasure file
    monkeypatch.setattr(readme_tables, "RESULTS", tmp_path)
    rows = readme_tables.every_erasure_row()
    assert [(r["method"], r["config"], r["concept_rate_explicit"]) for r in rows] == [
        ("original", "-", 1.0), ("bi-erasing", "default", 0.1), ("esd", "full", 0.0)
    ]  # fmt: skip
    monkeypatch.setattr(readme_tables, "FIGURES", tmp_path / "figures")
    written = readme_tables.figures("<!-- table: benchmark_v3_nudity -->\n<!-- end table -->")
    assert [p.name for p in written] == ["pareto_nudity.png"]
    assert readme_tables.figures("no erasure table here") == []  # control: nothing to draw, nothing written


def test_an_identities_row_carries_each_rate_with_its_interval():
    keys = ("acc_erased", "acc_kept", "h", "generic_rate", "preservation")
    row = {"method": "bi-erasing", "config": "default", "scenario": "identities-10", "acc_erased": 0.25,
           "acc_kept": 0.9, "h": 0.82, "generic_rate": 0.0, "preservation": 0.97, "clip_score_preservation": 0.75,
           "wall_time_s": 104.1, "metrics": {"intervals": {key: {"ci95": [0.0, 0.5]} for key in keys}}}  # fmt: skip
    line = readme_tables.identities([row]).splitlines()[2]
    assert line == ("| 10 | bi-erasing | 25.0 [0, 50] | 90.0 [0, 50] | 82.0 [0, 50] | 0.0 [0, 50] | 97.0 [0, 50] "
                    "| 0.750 | 104 |")  # fmt: skip
    del row["metrics"]["intervals"]["h"]  # control: a rate without its interval shows as a bare number
    assert "| 82.0 |" in readme_tables.identities([row])
    row["method"], row["config"] = "esd", "captions-keep"  # a configuration other than the default is named
    assert readme_tables.identities([row]).splitlines()[2].startswith("| 10 | esd, captions-keep | 25.0 [0, 50] |")


def test_the_identities_files_measured_one_k_at_a_time_join_one_table_in_order_of_k(tmp_path, monkeypatch):
    def row(k, method):
        return {"method": method, "config": "default", "scenario": f"identities-{k}", "acc_erased": 0.5,
                "acc_kept": 0.5, "h": 0.5, "generic_rate": 0.0, "preservation": 0.9, "wall_time_s": 1.0}  # fmt: skip

    for k in (100, 1, 10):
        (tmp_path / f"benchmark_identities_k{k}.json").write_text(json.dumps([row(k, "original"), row(k, "uce")]))
    (tmp_path / "benchmark_identities_k10_settings.json").write_text("{}")  # its settings: not rows
    (tmp_path / "benchmark_identities.json").write_text(json.dumps([row(7, "esd")]))  # another table's file
    monkeypatch.setattr(readme_tables, "RESULTS", tmp_path)
    lines = readme_tables.render("<!-- table: benchmark_identities_by_k -->\n<!-- end table -->").splitlines()
    assert [line.split(" | ")[:2] for line in lines[3:-1]] == [
        ["| 1", "original"], ["| 1", "uce"], ["| 10", "original"], ["| 10", "uce"], ["| 100", "original"], ["| 100", "uce"]
    ]  # fmt: skip
    monkeypatch.setattr(readme_tables, "FIGURES", tmp_path / "figures")
    written = readme_tables.figures("<!-- table: benchmark_identities_by_k -->\n<!-- end table -->")
    assert [p.name for p in written] == [
        "pareto_identities-1.png",
        "pareto_identities-10.png",
        "pareto_identities-100.png",
    ]
    assert readme_tables.figures("<!-- table: benchmark_identities -->") == []  # control: that table draws none


def test_an_identities_sweep_row_carries_each_rate_with_its_interval_and_the_original_first():
    keys = ("acc_erased", "acc_kept", "h", "generic_rate", "preservation")
    figures = {"k": 10, "original": dict.fromkeys(keys, 0.5),
               "chosen": {**dict.fromkeys(keys, 0.25), "intervals": {k: {"ci95": [0.1, 0.4]} for k in keys}}}  # fmt: skip
    lines = readme_tables.identity_sweep(figures).splitlines()
    assert lines[2] == "| original | 50.0 | 50.0 | 50.0 | 50.0 | 50.0 |"  # the sweep records no interval for it
    assert lines[3] == "| chosen | " + " | ".join(["25.0 [10, 40]"] * 5) + " |"
    assert len(lines) == 4  # control: "k" and the like are not rows


def test_the_identities_standing_reads_erased_names_shown_against_preservation():
    def row(method, config, shown, kept):
        ci = {
            "acc_erased": {"ci95": [shown - 0.02, shown + 0.02]},
            "preservation": {"ci95": [kept - 0.02, kept + 0.02]},
        }
        return {"method": method, "config": config, "scenario": "identities-10", "acc_erased": shown,
                "preservation": kept, "metrics": {"intervals": ci}}  # fmt: skip

    rows = [row("original", "-", 0.95, 0.98), row("bi-erasing", "default", 0.1, 0.9), row("esd", "default", 0.0, 0.6),
            row("uce", "default", 0.05, 0.95)]  # fmt: skip
    lines = readme_tables.standing(rows).splitlines()
    assert "Bi-Erasing: ACC_e, preservation" in lines[0]
    assert lines[2] == "| identities-10 | 10.0, 90.0 | uce | uce | none | none |"
    rows[-1] = row("uce", "default", 0.2, 0.95)  # control: a UCE that erases less no longer dominates
    assert readme_tables.standing(rows).splitlines()[2] == "| identities-10 | 10.0, 90.0 | none | none | none | none |"
