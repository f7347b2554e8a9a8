"""``--resume``: a run continues only with what it computed; a new learning rate is applied, for real, and
recorded; a run that failed before its first checkpoint starts again keeping its references."""

import json

import pytest
import torch
from safetensors.torch import load_file

import bierase
from bierase import references
from bierase.errors import UserError

WEIGHTS = "unet/diffusion_pytorch_model.safetensors"


@pytest.mark.parametrize("changed,value", [("concept", "red"), ("seed", 1), ("train_method", "full"),
                                           ("eta_pos", 2.0), ("mixed_precision", "bf16")])  # fmt: skip
def test_a_changed_option_that_cannot_change_mid_run_is_refused_by_name(tmp_path, tiny_config, changed, value):
    bierase.erase(tiny_config("bi-erasing", tmp_path, max_train_steps=2))
    before = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    with pytest.raises(UserError, match=f"--resume: --{changed} is .* in the run in .*, not "):
        bierase.erase(tiny_config("bi-erasing", tmp_path, max_train_steps=4, resume=True, **{changed: value}))
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == before  # nothing touched
    assert json.loads((tmp_path / "bierase.json").read_text())["steps"] == 2


def test_a_new_learning_rate_applies_from_the_resumed_step_and_is_recorded(tmp_path, tiny_config):
    for name in ("same", "lower"):
        bierase.erase(tiny_config("esd", tmp_path / name, max_train_steps=2))
    bierase.erase(tiny_config("esd", tmp_path / "same", max_train_steps=4, resume=True))
    bierase.erase(tiny_config("esd", tmp_path / "lower", max_train_steps=4, resume=True, learning_rate=1e-4))
    same, lower = load_file(tmp_path / "same" / WEIGHTS), load_file(tmp_path / "lower" / WEIGHTS)
    assert any(not torch.equal(same[k], lower[k]) for k in same)  # the optimizer did take the new rate
    run = json.loads((tmp_path / "lower" / "bierase.json").read_text())
    assert [(s["from_step"], s["to_step"], s["learning_rate"]) for s in run["segments"]] == [(0, 2, 1e-3),
                                                                                             (2, 4, 1e-4)]  # fmt: skip
    assert run["config"]["learning_rate"] == 1e-4  # the config of the last segment, with the history above


def test_a_finished_run_resumes_only_to_train_further(tmp_path, tiny_config):
    bierase.erase(tiny_config("esd", tmp_path, max_train_steps=2))
    with pytest.raises(UserError, match="at step 2; give a --max_train_steps above it"):
        bierase.erase(tiny_config("esd", tmp_path, max_train_steps=2, resume=True))
    assert (tmp_path / "bierase.json").is_file()


def test_a_two_stage_run_keeps_its_length(tmp_path, tiny_config):
    bierase.erase(tiny_config("bi-erasing", tmp_path, max_train_steps=2, two_stage=0.5))
    with pytest.raises(UserError, match="--max_train_steps is 2"):
        bierase.erase(tiny_config("bi-erasing", tmp_path, max_train_steps=4, two_stage=0.5, resume=True))


def test_a_run_that_failed_before_its_first_checkpoint_resumes_from_step_0_keeping_its_references(
    tmp_path, tiny_config, monkeypatch
):
    from bierase.erasing import trainer as trainer_module

    def fail(self, out, finished=False):
        raise UserError("stopped")

    monkeypatch.setattr(trainer_module.Trainer, "train", fail)
    with pytest.raises(UserError, match="stopped"):
        bierase.erase(tiny_config("bi-erasing", tmp_path / "o"))
    monkeypatch.undo()
    with pytest.raises(UserError, match="holds an unfinished run .no checkpoint yet.; pass --resume to continue"):
        bierase.erase(tiny_config("bi-erasing", tmp_path / "o"))  # the advice names a way that works
    sampled = []
    real = references.generate
    monkeypatch.setattr(references, "generate", lambda *a, **k: sampled.append(a[1]) or real(*a, **k))
    out = bierase.erase(tiny_config("bi-erasing", tmp_path / "o", resume=True))
    assert json.loads((out / "bierase.json").read_text())["steps"] == 2
    assert sampled == []  # the references of the failed start were kept, not drawn again
    monkeypatch.undo()
    straight = bierase.erase(tiny_config("bi-erasing", tmp_path / "straight"))
    a, b = load_file(out / WEIGHTS), load_file(straight / WEIGHTS)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_needs_a_run_to_continue(tmp_path, tiny_config):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="holds no bierase run to continue"):
        bierase.erase(tiny_config("esd", tmp_path, resume=True))
