"""Cheaper ways to z_t: ``--rollout noised`` (the drawn concept image's latent noised to t, no UNet call) and
``--rollout_reuse R`` (one rollout for R steps)."""

import json

import pytest
import torch

import bierase
from bierase.errors import UserError
from bierase.methods.bi_erasing.objective import objective


def test_z_t_is_the_drawn_concept_latent_noised_to_t_and_the_student_is_not_called(
    smoke_world, tmp_path, tiny_config, make_trainer
):
    from bierase.toyworld import load_pipeline

    pipe = load_pipeline(smoke_world, ip_adapter=True)
    cfg = tiny_config("bi-erasing", tmp_path, rollout="noised", train_batch_size=4, ddim_steps=10)
    trainer, _ = make_trainer(pipe, cfg, objective(cfg))
    shape = (3, *trainer.latent_shape[1:])
    trainer.image_sets.latents["negative"] = torch.randn(shape, generator=torch.Generator().manual_seed(2))
    calls = []
    trainer.student.register_forward_hook(lambda *_: calls.append(1))

    batch = trainer.draw()
    z, t = trainer.rollout(batch)
    assert not calls  # no UNet call made z_t
    assert t == trainer.scheduler.timesteps[batch.k]
    alpha = trainer.scheduler.alphas_cumprod[t]
    clean = trainer.image_sets.latents["negative"][batch.image_index["negative"]]
    assert torch.allclose(z, alpha.sqrt() * clean + (1 - alpha).sqrt() * batch.noise, atol=1e-6)
    # the control: another draw of image, a fresh noise or another step would not give this z_t
    other = trainer.image_sets.latents["negative"][(batch.image_index["negative"] + 1) % 3]
    assert not torch.allclose(z, alpha.sqrt() * other + (1 - alpha).sqrt() * batch.noise, atol=1e-3)
    # the image its negative branch conditions on is the one it was noised from
    index = batch.image_index["negative"]
    assert torch.equal(batch.images["negative"], trainer.image_sets.embeds["negative"][index])


def test_a_noised_run_encodes_its_references_once_and_erases_end_to_end(tmp_path, tiny_config, monkeypatch):
    from bierase.erasing import image_sets

    encoded, real = [], image_sets.encode_latents
    monkeypatch.setattr(
        image_sets, "encode_latents", lambda pipe, images: encoded.append(len(images)) or real(pipe, images)
    )
    out = bierase.erase(tiny_config("bi-erasing", tmp_path / "o", rollout="noised"))
    assert encoded == [2]  # the negative set's two images, once; the positive set needs no latents
    run = json.loads((out / "bierase.json").read_text())
    assert run["steps"] == 2 and all(torch.isfinite(torch.tensor(h["loss"])) for h in run["losses"])
    assert "rollout: noised" in (out / "config.yaml").read_text()


@pytest.mark.parametrize(
    "method, options, words",
    [
        ("esd", {}, "uses none"),
        ("bi-erasing", {"image_conditioning": False}, "uses none"),
        ("bi-erasing", {"rollout_steps": 2}, "no jumps"),
    ],
)
def test_a_noised_rollout_without_reference_images_is_refused_in_one_line(tmp_path, tiny_config, method, options,
                                                                          words):  # fmt: skip
    with pytest.raises(UserError, match=words):
        tiny_config(method, tmp_path, rollout="noised", **options)


@pytest.mark.parametrize("reuse, rollouts", [(1, 4), (2, 2)])  # reuse 1 is the control: a rollout every step
def test_a_reused_rollout_starts_only_at_multiples_of_its_reuse(tmp_path, tiny_config, monkeypatch, reuse, rollouts):
    from bierase.erasing import trainer as trainer_module

    started, real = [], trainer_module.Trainer.rollout
    monkeypatch.setattr(trainer_module.Trainer, "rollout", lambda self, batch: started.append(1) or real(self, batch))
    bierase.erase(tiny_config("bi-erasing", tmp_path / "o", rollout_reuse=reuse, max_train_steps=4))
    assert len(started) == rollouts


@pytest.mark.parametrize("steps", [{"checkpointing_steps": 100}, {"max_train_steps": 10, "checkpointing_steps": 0}])
def test_a_reuse_that_does_not_divide_the_saved_steps_is_refused(tmp_path, tiny_config, steps):
    # a run is saved (checkpoint or final) only where a new rollout starts, so a resume continues the same stream
    with pytest.raises(UserError, match=f"--{next(iter(steps))} .* not a multiple of --rollout_reuse 3"):
        tiny_config("bi-erasing", tmp_path, rollout_reuse=3, **steps)
    tiny_config("bi-erasing", tmp_path, rollout_reuse=3, max_train_steps=9, checkpointing_steps=0)  # the control


def test_a_resumed_run_reuses_its_rollouts_as_the_uninterrupted_one_did(tmp_path, tiny_config):
    from safetensors.torch import load_file

    weights = "unet/diffusion_pytorch_model.safetensors"
    bierase.erase(tiny_config("bi-erasing", tmp_path / "straight", rollout_reuse=2, max_train_steps=4))
    bierase.erase(tiny_config("bi-erasing", tmp_path / "resumed", rollout_reuse=2, max_train_steps=2))
    bierase.erase(tiny_config("bi-erasing", tmp_path / "resumed", rollout_reuse=2, max_train_steps=4, resume=True))
    bierase.erase(tiny_config("bi-erasing", tmp_path / "fresh", max_train_steps=4))  # the control: reuse 1
    straight, resumed = load_file(tmp_path / "straight" / weights), load_file(tmp_path / "resumed" / weights)
    fresh = load_file(tmp_path / "fresh" / weights)
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)
    assert not all(torch.equal(straight[k], fresh[k]) for k in straight)
