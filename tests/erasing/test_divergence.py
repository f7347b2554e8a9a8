"""A run that diverges is never saved as a success: the loss rule, the finite-weight check, the checkpoint kept."""

import json

import pytest
import torch
from safetensors.torch import load_file

import bierase
from bierase.erasing import trainer as trainer_module
from bierase.erasing.checkpoint import latest_checkpoint
from bierase.erasing.divergence import LOSS_FLOOR, SPIKE_FACTOR, divergence
from bierase.erasing.trainer import TrainingDiverged
from bierase.toyworld import model_path


def test_the_rule_by_hand():
    assert divergence(float("nan"), []) and divergence(float("inf"), [0.1])
    assert divergence(5.0, []) is None  # the first step has nothing to be judged against
    assert divergence(0.05 * SPIKE_FACTOR * 0.99, [0.04, 0.05, 0.06]) is None  # median 0.05
    assert "jumped" in divergence(0.05 * SPIKE_FACTOR * 1.01, [0.04, 0.05, 0.06])
    assert divergence(0.9 * SPIKE_FACTOR * LOSS_FLOOR, [0.0, 0.0]) is None  # a start at ~0 is judged by the floor
    assert divergence(0.133, [0.0011]) is None  # a tiny model's next timestep (seen in CI), not a divergence
    assert "jumped" in divergence(2.71, [0.0037])  # lr 1.0 on the bundled world, measured
    assert divergence(0.2, [0.01] * 19 + [10.0]) is None  # one high step does not move the median
    # relative: a loss weight scales the level with the loss, so it never reads as a divergence
    for scale in (1.0, 1e3, 1e6):
        assert divergence(scale * 0.3, [scale * 0.05, scale * 0.1]) is None


def run_esd(tmp_path, name, **options):
    config = bierase.ESDConfig(
        pretrained_model_name_or_path=str(model_path()), concept="a nude shape", output_dir=str(tmp_path / name),
        ddim_steps=10, rollout_steps=2, checkpointing_steps=0, **options,
    )  # fmt: skip
    return bierase.erase(config)


def test_a_learning_rate_of_one_is_stopped_at_its_jump_and_a_normal_one_is_not(tmp_path):
    """On the bundled world, lr 1.0 takes ESD's loss from ~0.004 to ~2.7 in one step (measured); lr 1e-4 does not."""
    out = run_esd(tmp_path, "normal", learning_rate=1e-4, max_train_steps=4)
    assert json.loads((out / "bierase.json").read_text())["steps"] == 4
    with pytest.raises(TrainingDiverged, match="diverged at step 1: the loss jumped to .*x its running level"):
        run_esd(tmp_path, "high", learning_rate=1.0, max_train_steps=4)
    high = tmp_path / "high"
    assert not (high / "unet").exists() and not (high / "bierase.json").exists()


def test_non_finite_weights_fail_the_run_and_the_named_checkpoint_is_the_last_good_one(tmp_path, tiny_config,
                                                                                       monkeypatch):  # fmt: skip
    """Weights can turn NaN while every loss so far was finite (lr 100 did it in three steps): they are checked
    before each checkpoint and the final save, so the checkpoint kept, and named, is finite."""
    real_init = trainer_module.Trainer.__init__

    def init(self, *args, **kwargs):
        real_init(self, *args, **kwargs)
        step, updates = self.optimizer.step, []

        def poisoned_step(*a, **kw):  # the fourth (last) update leaves a NaN behind; every loss was finite
            step(*a, **kw)
            updates.append(1)
            if len(updates) == 4:
                with torch.no_grad():
                    next(iter(self.trainable().values())).fill_(float("nan"))

        self.optimizer.step = poisoned_step

    monkeypatch.setattr(trainer_module.Trainer, "__init__", init)
    with pytest.raises(TrainingDiverged, match="at step 4: 1 weight tensors are not finite.*step-000002"):
        bierase.erase(tiny_config("esd", tmp_path / "o", max_train_steps=4, checkpointing_steps=2))
    kept = latest_checkpoint(tmp_path / "o")
    assert kept.name == "step-000002"
    assert all(torch.isfinite(v).all() for v in load_file(kept / "trainable.safetensors").values())
    assert not (tmp_path / "o" / "unet").exists() and not (tmp_path / "o" / "bierase.json").exists()


def test_a_nan_loss_stops_the_run_before_its_step(tmp_path, tiny_config, monkeypatch):
    real = trainer_module.Trainer.losses

    def nan_at_step_2(self, batch, step):
        losses = real(self, batch, step)
        return losses._replace(total=losses.total * float("nan")) if step == 2 else losses

    monkeypatch.setattr(trainer_module.Trainer, "losses", nan_at_step_2)
    with pytest.raises(TrainingDiverged, match="step 2: the loss is nan.*continues from .*step-000002"):
        bierase.erase(tiny_config("bi-erasing", tmp_path / "o", max_train_steps=4, checkpointing_steps=2))
    assert (tmp_path / "o" / "checkpoints" / "step-000002" / "trainable.safetensors").is_file()


def test_a_large_loss_weight_is_not_mistaken_for_a_divergence(tmp_path, tiny_config):
    out = bierase.erase(tiny_config("bi-erasing", tmp_path / "o", image_conditioning=False, lambda_neg=1e4,
                                    learning_rate=1e-6, max_train_steps=4))  # fmt: skip
    losses = json.loads((out / "bierase.json").read_text())["losses"]
    assert len(losses) == 4 and losses[0]["loss"] > 1e4 * losses[0]["loss_neg"] * 0.9
