"""`bierase benchmark --quick` on the bundled toy world: every row has the interface's fields."""

import csv
import json

import pytest

from bierase.cli.main import main


def check_quick_benchmark(out, world, capsys):
    argv = ["benchmark", "--quick", "--output_dir", str(out)] + (
        ["--pretrained_model_name_or_path", str(world)] if world else []
    )
    assert main(argv) == 0
    rows = json.loads((out / "results.json").read_text())
    methods = {(r["method"], r["config"]) for r in rows}
    assert {("original", "-"), ("bi-erasing", "default"), ("esd", "default"), ("co-erasing", "default"),
            ("uce", "default")} <= methods  # fmt: skip
    for row in rows:
        assert {"method", "config", "scenario", "concept_rate_explicit", "preservation", "safe_rate",
                "wall_time_s", "peak_memory_mb", "asr", "pre_asr"} <= set(row)  # fmt: skip
    trained = [r for r in rows if r["method"] != "original"]
    assert all(r["wall_time_s"] > 0 and r["peak_memory_mb"] > 0 for r in trained)
    assert all(0 <= r["pre_asr"] <= r["asr"] <= 1 for r in trained)  # every erased model is attacked
    assert len(list(csv.DictReader(open(out / "results.csv")))) == len(rows)
    printed = capsys.readouterr().out
    assert "toyworld-erasure/v3" in printed and "bi-erasing" in printed
    assert "<svg" in (out / "report.html").read_text()


def test_quick_benchmark_writes_results_and_table(smoke_world, tmp_path, capsys):
    """The whole plan on the smoke world (every stage, nothing learnt): the interface, in seconds."""
    check_quick_benchmark(tmp_path / "bench", smoke_world, capsys)


@pytest.mark.slow
def test_quick_benchmark_on_the_bundled_world(tmp_path, capsys):
    check_quick_benchmark(tmp_path / "bench", None, capsys)


def test_an_unknown_scenario_is_refused_before_anything_runs(tmp_path, capsys):
    out = tmp_path / "bench"
    assert main(["benchmark", "--scenario", "nudty", "--output_dir", str(out)]) != 0
    assert "unknown scenario nudty; choose from" in capsys.readouterr().err
    assert main(["benchmark", "--scenario", "identities-7", "--output_dir", str(out)]) != 0  # not a k of the protocol
    assert "identities-10" in capsys.readouterr().err
    assert not out.exists()


def test_scenarios_can_be_chosen():
    from bierase.benchmark.runner import settings

    assert settings(False, ["nudity"])["scenarios"] == ["nudity"]
    assert len(settings(False)["scenarios"]) >= 3
    # the identities scenario at one k (or several), beside another scenario
    one = settings(False, ["identities-10", "star"])
    assert one["scenarios"] == ["identities", "star"] and one["identity_ks"] == (10,)
    assert settings(False, ["identities-100", "identities-1"])["identity_ks"] == (1, 100)
    assert settings(False, ["identities"])["identity_ks"] == (1, 10, 100)  # control: every k


def test_runs_can_be_chosen_by_method_or_method_and_config(tmp_path, capsys):
    from bierase.benchmark.runner import settings
    from bierase.cli.main import main

    chosen = settings(False, runs=["esd", "bi-erasing:no-mask"])["runs"]
    assert [(r.method, r.config) for r in chosen] == [
        ("bi-erasing", "no-mask"), ("esd", "default"), ("esd", "noxattn"), ("esd", "full"), ("esd", "captions-keep")
    ]  # fmt: skip
    assert len(settings(False)["runs"]) > len(chosen)
    out = tmp_path / "bench"
    assert main(["benchmark", "--run", "bi-erasing:nomask", "--output_dir", str(out)]) != 0
    assert "--run bi-erasing:nomask is not in the plan; choose from" in capsys.readouterr().err
    assert not out.exists()


def test_saved_activations_count_what_backward_keeps_once_per_storage():
    import torch

    from bierase.benchmark.memory import SavedActivations

    x = torch.randn(7, 3)
    linear, tanh = torch.nn.Linear(3, 5, bias=False), torch.nn.Tanh()
    saved = SavedActivations()
    saved.track("linear", linear)
    saved.track("tanh", tanh)
    with saved.counting():
        y = tanh(linear(x))  # the linear layer keeps x for its weight's grad; tanh keeps its output y
        loss = (y * y).sum()  # keeps y twice more: the same storage, not counted again
    loss.backward()
    assert saved.by_block == {"linear": 7 * 3 * 4, "tanh": 7 * 5 * 4}
    # a model counted many times in place (the SDXL memory model) keeps no hooks from earlier counts
    saved.untrack()
    assert not linear._forward_hooks and not linear._forward_pre_hooks and not tanh._forward_hooks
    with torch.no_grad(), SavedActivations().counting() as nothing:
        tanh(linear(x))
    assert nothing.total == 0


def test_counting_saved_activations_does_not_keep_the_graph_alive():
    """A saved output packed as itself references its own grad_fn: a cycle that leaked a UNet per count."""
    import gc
    import weakref

    import torch

    from bierase.benchmark.memory import SavedActivations

    linear, tanh = torch.nn.Linear(3, 5), torch.nn.Tanh()
    with SavedActivations().counting():
        y = tanh(linear(torch.randn(7, 3)))  # tanh saves its own output
    output = weakref.ref(y)
    del y
    gc.collect()
    assert output() is None
