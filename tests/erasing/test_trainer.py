"""The shared trainer on the smoke-built toy world: calls, resume, outputs, precision."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from diffusers import StableDiffusionPipeline, UNet2DConditionModel
from safetensors.torch import load_file

import bierase
from bierase.erasing import trainer as trainer_module
from bierase.erasing.preservation import PreservationTerm
from bierase.erasing.rollout import rollout
from bierase.errors import UserError
from bierase.methods.bi_erasing.objective import objective

WEIGHTS = Path("unet") / "diffusion_pytorch_model.safetensors"


def test_a_text_only_term_runs_as_plain_unets_without_the_image_branch(
    smoke_world, tmp_path, tiny_config, make_trainer
):
    """The preservation term is the student against the teacher on a preservation prompt, as plain UNets without
    the image branch answer it (the way the erased model is used); Bi-Erasing's branches keep their formula."""
    from bierase.toyworld import load_pipeline

    pipe = load_pipeline(smoke_world, ip_adapter=True)
    cfg = tiny_config("bi-erasing", tmp_path, train_batch_size=2, preserve_prompts=["a red star"], lambda_preserve=2.0)
    trainer, texts = make_trainer(pipe, cfg, [*objective(cfg), PreservationTerm(2.0)])
    with torch.no_grad():  # a student that already differs from its teacher, so the term is not trivially 0
        for p in trainer.trainable().values():
            p.add_(0.05 * torch.randn_like(p))
    student_weights = {n: p.detach().clone() for n, p in trainer.student.named_parameters()}

    state = trainer.generator.get_state()
    batch = trainer.draw()
    assert batch.prompts["preserve"].tolist() == [0, 0]
    pipe.set_ip_adapter_scale(0.0)
    z, t = rollout(trainer.rollout_predictor(batch), trainer.scheduler, batch.noise, batch.k)
    pipe.set_ip_adapter_scale(1.0)
    trainer.generator.set_state(state)
    losses = trainer.losses(trainer.draw(), step=0)

    keep = texts["preserve"]
    plain_teacher = UNet2DConditionModel.from_pretrained(Path(smoke_world) / "unet")
    plain_student = UNet2DConditionModel.from_pretrained(Path(smoke_world) / "unet")
    plain_student.load_state_dict({n: w for n, w in student_weights.items() if n in plain_student.state_dict()})
    with torch.no_grad():
        expected = F.mse_loss(plain_student(z, t, keep.expand(2, -1, -1)).sample,
                              plain_teacher(z, t, keep.expand(2, -1, -1)).sample)  # fmt: skip
    assert expected.item() > 1e-6
    assert losses.parts["loss_keep"].item() == pytest.approx(expected.item(), rel=1e-4)
    branches = 0.6 * losses.parts["loss_neg"] + 0.4 * losses.parts["loss_pos"]
    assert losses.total.item() == pytest.approx((branches + 2.0 * expected).item(), rel=1e-4)


def test_resume_ends_at_the_weights_of_an_uninterrupted_run(smoke_world, tmp_path, tiny_config):
    bierase.erase(tiny_config("bi-erasing", tmp_path / "straight", max_train_steps=4))
    bierase.erase(tiny_config("bi-erasing", tmp_path / "split", max_train_steps=2))
    bierase.erase(tiny_config("bi-erasing", tmp_path / "split", max_train_steps=4, resume=True))
    a, b = load_file(tmp_path / "straight" / WEIGHTS), load_file(tmp_path / "split" / WEIGHTS)
    assert all(torch.equal(a[k], b[k]) for k in a)
    base = UNet2DConditionModel.from_pretrained(smoke_world / "unet").state_dict()
    assert any(not torch.equal(a[k], base[k]) for k in a)  # training did change the weights
    run = json.loads((tmp_path / "split" / "bierase.json").read_text())
    assert [(s["from_step"], s["to_step"]) for s in run["segments"]] == [(0, 2), (2, 4)]


def test_outputs_load_into_a_plain_pipeline(smoke_world, tmp_path, tiny_config):
    config = tiny_config("bi-erasing", tmp_path / "run", save_pipeline=True)
    out = bierase.erase(config)
    unet = UNet2DConditionModel.from_pretrained(out / "unet")
    assert unet.config.encoder_hid_dim_type is None
    assert not any("_ip" in k or "encoder_hid_proj" in k for k in unet.state_dict())
    run = json.loads((out / "bierase.json").read_text())
    assert run["method"] == "bi-erasing" and run["steps"] == 2
    assert set(run["final_losses"]) == {"loss", "loss_neg", "loss_pos"}
    assert bierase.BiErasingConfig.from_yaml(out / "config.yaml", "bi-erasing") == config
    StableDiffusionPipeline.from_pretrained(out / "pipeline")
    assert sorted(p.name for p in (out / "references" / "negative").glob("*.png")) == ["00000.png", "00001.png"]


def test_lora_output_loads_with_load_lora_weights(smoke_world, tmp_path, tiny_config):
    out = bierase.erase(tiny_config("bi-erasing", tmp_path / "lora", lora_rank=2, learning_rate=1e-1))
    assert not (out / "unet").exists()
    pipe = StableDiffusionPipeline.from_pretrained(smoke_world)
    kwargs = dict(num_inference_steps=2, output_type="np")
    plain = pipe("a nude star", generator=torch.Generator().manual_seed(0), **kwargs).images
    pipe.load_lora_weights(out)
    erased = pipe("a nude star", generator=torch.Generator().manual_seed(0), **kwargs).images
    assert not torch.allclose(torch.from_numpy(plain), torch.from_numpy(erased))


def test_missing_ip_adapter_is_named_before_training(tmp_path, tiny_config):
    with pytest.raises(UserError, match="no IP-Adapter weights"):
        bierase.erase(tiny_config("bi-erasing", tmp_path / "o", ip_adapter_weight_name="missing.safetensors"))
    assert not (tmp_path / "o").exists()


def test_reference_style_calls_give_the_same_run(tmp_path, tiny_config):
    """Batching and the embedding cache are speed-ups only: unbatched, re-encoded runs reach the same weights."""
    fast = bierase.erase(tiny_config("bi-erasing", tmp_path / "fast"))
    slow = bierase.erase(tiny_config("bi-erasing", tmp_path / "slow", batched_calls=False, cache_embeddings=False))
    a, b = load_file(fast / WEIGHTS), load_file(slow / WEIGHTS)
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    losses_a = json.loads((fast / "bierase.json").read_text())["losses"]
    losses_b = json.loads((slow / "bierase.json").read_text())["losses"]
    assert [h["loss"] for h in losses_a] == pytest.approx([h["loss"] for h in losses_b], rel=1e-4)


def test_the_progress_bar_and_the_record_are_named_after_the_method(tmp_path, tiny_config, monkeypatch):
    names = []
    real = trainer_module.tqdm
    monkeypatch.setattr(trainer_module, "tqdm", lambda *a, **kw: names.append(kw["desc"]) or real(*a, **kw))
    out = bierase.erase(tiny_config("esd", tmp_path / "esd"))
    assert names == ["esd"]
    assert json.loads((out / "bierase.json").read_text())["method"] == "esd"


def test_the_teacher_is_stored_in_the_mixed_precision_dtype(smoke_world):
    """bf16 halves the frozen teacher's memory; the student keeps its fp32 weights; no mixed precision keeps fp32."""
    unet = UNet2DConditionModel.from_pretrained(smoke_world / "unet")
    teacher = trainer_module.frozen_teacher(unet, torch.device("cpu"), "bf16")
    assert {p.dtype for p in teacher.parameters()} == {torch.bfloat16}
    assert not any(p.requires_grad for p in teacher.parameters())
    assert {p.dtype for p in unet.parameters()} == {torch.float32}
    fp32 = trainer_module.frozen_teacher(unet, torch.device("cpu"), "no")
    assert {p.dtype for p in fp32.parameters()} == {torch.float32}


def test_a_bf16_run_trains_close_to_the_fp32_run(tmp_path, tiny_config):
    """With its teacher in bf16, a whole bf16 run still trains like fp32 (a guard, not the dtype proof above).

    Each run has its own process: accelerate fixes the precision once per process.
    """
    for mp in ("bf16", "no"):
        options = tiny_config("bi-erasing", tmp_path / mp, mixed_precision=mp).to_dict()
        code = f"import bierase; bierase.erase(bierase.BiErasingConfig(**{options!r}))"
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    bf16, fp32 = (json.loads((tmp_path / mp / "bierase.json").read_text())["losses"] for mp in ("bf16", "no"))
    assert [h["loss"] for h in bf16] == pytest.approx([h["loss"] for h in fp32], rel=0.05, abs=1e-4)


def _preserving_trainer(smoke_world, tmp_path, tiny_config, make_trainer):
    """Bi-Erasing with its preservation term: image-conditioned and text-only conditions in one objective."""
    from bierase.toyworld import load_pipeline

    pipe = load_pipeline(smoke_world, ip_adapter=True)
    cfg = tiny_config("bi-erasing", tmp_path, train_batch_size=2, preserve_prompts=["a red star"], lambda_preserve=2.0)
    trainer, _ = make_trainer(pipe, cfg, [*objective(cfg), PreservationTerm(2.0)])
    with torch.no_grad():  # a student that differs from its teacher
        for p in trainer.trainable().values():
            p.add_(0.05 * torch.randn_like(p))
    return trainer


def test_a_step_makes_one_teacher_call_and_one_student_call(smoke_world, tmp_path, tiny_config, make_trainer):
    """Both terms' conditions, image-conditioned and text-only, share one call per UNet (it was one per term)."""
    trainer = _preserving_trainer(smoke_world, tmp_path, tiny_config, make_trainer)
    batch = trainer.draw()
    rolled_out = trainer.rollout(batch)
    trainer.rollout = lambda _: rolled_out  # the rollout's calls are not the ones counted
    calls = {"teacher": 0, "student": 0}
    for name in calls:
        getattr(trainer, name).register_forward_pre_hook(lambda *_, name=name: calls.__setitem__(name, calls[name] + 1))
    trainer.losses(batch, step=1)
    assert calls == {"teacher": 1, "student": 1}


def test_one_call_answers_each_condition_as_its_own_call(smoke_world, tmp_path, tiny_config, make_trainer):
    """The merged call gives each condition what a call of its own gives: text-only ones with the image branch off
    (per-sample IP-Adapter masks), image-conditioned ones with it on; without the masks the text-only ones differ."""
    trainer = _preserving_trainer(smoke_world, tmp_path, tiny_config, make_trainer)
    batch = trainer.draw()
    z, t = trainer.rollout(batch)
    conditions = (*trainer.terms[0].teacher, *trainer.terms[1].teacher)
    assert {c.image is None for c in conditions} == {True, False}
    for model, grad in ((trainer.teacher, False), (trainer.student, True)):
        merged = trainer.predict(model, conditions, z, t, batch, grad)
        alone = torch.cat([trainer.predict(model, (c,), z, t, batch, grad) for c in conditions])
        assert torch.allclose(merged, alone, atol=1e-5), (grad, (merged - alone).abs().max())

    unmasked = trainer._eps(
        trainer.teacher, z, t, torch.cat([trainer._text(c.text, batch) for c in conditions]),
        torch.cat([batch.images[c.image] if c.image else torch.zeros(2, trainer.image_dim) for c in conditions]), None, None,
    )  # fmt: skip
    keep = trainer.predict(trainer.teacher, conditions[-1:], z, t, batch, grad=False)
    assert not torch.allclose(unmasked[-2:], keep, atol=1e-3)  # the image branch would have leaked into it
