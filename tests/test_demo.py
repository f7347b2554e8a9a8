"""The demo end to end on the smoke world, made seconds long through its overrides."""

import json

import pytest

from bierase.demo import run_demo
from bierase.errors import UserError


def test_demo_writes_report_and_metrics(smoke_world, tmp_path):
    out = tmp_path / "demo"
    metrics = run_demo(out, smoke_world, eval_samples=4, max_train_steps=2, num_reference_images=2, reference_steps=1,
                       ddim_steps=3)  # fmt: skip
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["before"]["concept_rate"].keys() == {"explicit", "synonym", "implicit", "paraphrase"}
    for side in ("before", "after"):
        assert {"concept_rate", "safe_rate", "preservation"} <= set(saved[side])
    assert "agreement_with_original" in saved["after"] and saved["after"]["protocol"] == "toyworld-erasure"
    report = (out / "report.html").read_text()
    assert report.count("<img") >= 2 * 4 + 2 and "<svg" in report and "toyworld-erasure/v3" in report
    stages = saved["stages"]  # where the time went: the stages add up to the whole (the report's last second aside)
    assert {"load", "evaluate_before", "erase", "evaluate_after", "erase_training"} <= set(stages)
    whole = sum(stages[k] for k in ("load", "evaluate_before", "erase", "evaluate_after"))
    assert 0 < whole <= metrics["seconds"] + 0.2 and metrics["seconds"] - whole < 5
    assert 0 < stages["erase_training"] <= stages["erase"]


def test_demo_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / "x").write_text("keep")
    with pytest.raises(UserError, match="not empty"):
        run_demo(tmp_path)
    assert (tmp_path / "x").read_text() == "keep"
