"""The trainer on the smoke-built toy world: formulas, resume, outputs, refusals."""

import copy
import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from diffusers import StableDiffusionPipeline, UNet2DConditionModel
from safetensors.torch import load_file

from bierase.errors import UserError
from bierase.methods.bi_erasing import BiErasingConfig, erase
from bierase.methods.bi_erasing import trainer as trainer_module
from bierase.methods.bi_erasing.conditions import encode_texts, unet_inputs
from bierase.methods.bi_erasing.trainer import BiErasingTrainer, TrainingDiverged


def config(world, out, **kw):
    base = dict(
        pretrained_model_name_or_path=str(world), concept="nude", positive_concept="clothed", output_dir=str(out),
        num_reference_images=2, reference_steps=1, mask_source="none", train_method="xattn", learning_rate=1e-3,
        max_train_steps=2, ddim_steps=3, checkpointing_steps=0,
    )  # fmt: skip
    return BiErasingConfig(**{**base, **kw})


def test_one_step_equals_the_method_note(smoke_world, tmp_path):
    """Loss from separate, unbatched teacher/student calls and hand-written targets; Adam's first step by hand."""
    from accelerate import Accelerator

    from bierase.toyworld import load_pipeline

    pipe = load_pipeline(smoke_world, ip_adapter=True)
    cfg = config(smoke_world, tmp_path, max_train_steps=1, train_batch_size=2, embedding_noise=0.1)
    texts = encode_texts(pipe, cfg.concept, cfg.positive_concept)
    dim = pipe.image_encoder.config.projection_dim
    neg_embeds, pos_embeds = torch.randn(3, dim), torch.randn(3, dim)
    trainer = BiErasingTrainer(pipe, texts, neg_embeds, pos_embeds, cfg, Accelerator(cpu=True))
    teacher = copy.deepcopy(trainer.teacher)
    before = {n: p.detach().clone() for n, p in trainer.trainable().items()}

    generator_state = trainer.generator.get_state()
    batch = trainer.draw()
    pipe.set_ip_adapter_scale(0.0)
    from bierase.erasing.rollout import rollout

    z, t = rollout(trainer.rollout_predictor(), trainer.scheduler, batch.noise, batch.k)
    pipe.set_ip_adapter_scale(1.0)

    def eps(model, text, image):
        return model(z, t, **unet_inputs(text.expand(2, -1, -1), image)).sample

    student = trainer.student
    target_neg = eps(teacher, texts.empty, batch.negative) - (
        eps(teacher, texts.negative, batch.negative) - eps(teacher, texts.empty, batch.negative)
    )
    target_pos = eps(teacher, texts.positive, batch.positive)  # eta_pos = 1
    expected = 0.6 * F.mse_loss(eps(student, texts.negative, batch.negative), target_neg.detach()) + 0.4 * F.mse_loss(
        eps(student, texts.positive, batch.positive), target_pos.detach())  # fmt: skip
    grads = torch.autograd.grad(expected, list(trainer.trainable().values()))

    trainer.generator.set_state(generator_state)
    state = trainer.train(tmp_path)
    assert state.history[0]["loss"] == pytest.approx(expected.item(), rel=1e-4)
    eps_adam = 1e-8
    for (name, new), g in zip(trainer.trainable().items(), grads):
        # Adam's first step: m_hat = g, v_hat = g^2, so p <- p - lr * g / (|g| + eps)
        # (gradients near Adam's eps make the step sensitive to float rounding: 2 % of lr tolerance)
        assert torch.allclose(new, before[name] - 1e-3 * g / (g.abs() + eps_adam), atol=2e-5), name
        assert not torch.allclose(new, before[name], atol=2e-4), name  # the step itself is ~lr


def test_the_preservation_term_matches_plain_text_only_unets(smoke_world, tmp_path):
    """The third term is the student against the teacher on a preservation prompt, as plain UNets without
    the image branch answer it (the way the erased model is used); both branches keep their formula."""
    from accelerate import Accelerator

    from bierase.erasing.rollout import rollout
    from bierase.methods.bi_erasing.conditions import encode_prompts
    from bierase.toyworld import load_pipeline

    pipe = load_pipeline(smoke_world, ip_adapter=True)
    cfg = config(smoke_world, tmp_path, train_batch_size=2, preserve_prompts=["a red star"], lambda_preserve=2.0)
    texts, keep = encode_texts(pipe, cfg.concept, cfg.positive_concept), encode_prompts(pipe, cfg.preserve_prompts)
    dim = pipe.image_encoder.config.projection_dim
    trainer = BiErasingTrainer(pipe, texts, torch.randn(3, dim), torch.randn(3, dim), cfg, Accelerator(cpu=True),
                               preserve=keep)  # fmt: skip
    with torch.no_grad():  # a student that already differs from its teacher, so the term is not trivially 0
        for p in trainer.trainable().values():
            p.add_(0.05 * torch.randn_like(p))
    student_weights = {n: p.detach().clone() for n, p in trainer.student.named_parameters()}

    state = trainer.generator.get_state()
    batch = trainer.draw()
    assert batch.preserve.tolist() == [0, 0]
    pipe.set_ip_adapter_scale(0.0)
    z, t = rollout(trainer.rollout_predictor(), trainer.scheduler, batch.noise, batch.k)
    pipe.set_ip_adapter_scale(1.0)
    trainer.generator.set_state(state)
    losses = trainer.losses(trainer.draw(), step=0)

    plain_teacher = UNet2DConditionModel.from_pretrained(Path(smoke_world) / "unet")
    plain_student = UNet2DConditionModel.from_pretrained(Path(smoke_world) / "unet")
    plain_student.load_state_dict({n: w for n, w in student_weights.items() if n in plain_student.state_dict()})
    with torch.no_grad():
        expected = F.mse_loss(plain_student(z, t, keep.expand(2, -1, -1)).sample,
                              plain_teacher(z, t, keep.expand(2, -1, -1)).sample)  # fmt: skip
    assert expected.item() > 1e-6
    assert losses.preservation.item() == pytest.approx(expected.item(), rel=1e-4)
    branches = 0.6 * losses.negative + 0.4 * losses.positive
    assert losses.total.item() == pytest.approx((branches + 2.0 * expected).item(), rel=1e-4)


def test_resume_ends_at_the_weights_of_an_uninterrupted_run(smoke_world, tmp_path):
    erase(config(smoke_world, tmp_path / "straight", max_train_steps=4))
    erase(config(smoke_world, tmp_path / "split", max_train_steps=2))
    erase(config(smoke_world, tmp_path / "split", max_train_steps=4, resume=True))
    a = load_file(tmp_path / "straight" / "unet" / "diffusion_pytorch_model.safetensors")
    b = load_file(tmp_path / "split" / "unet" / "diffusion_pytorch_model.safetensors")
    assert all(torch.equal(a[k], b[k]) for k in a)
    base = UNet2DConditionModel.from_pretrained(smoke_world / "unet").state_dict()
    assert any(not torch.equal(a[k], base[k]) for k in a)  # training did change the weights


def test_outputs_load_into_a_plain_pipeline(smoke_world, tmp_path):
    out = erase(config(smoke_world, tmp_path / "run", save_pipeline=True))
    unet = UNet2DConditionModel.from_pretrained(out / "unet")
    assert unet.config.encoder_hid_dim_type is None
    assert not any("_ip" in k or "encoder_hid_proj" in k for k in unet.state_dict())
    run = json.loads((out / "bierase.json").read_text())
    assert (
        run["method"] == "bi-erasing"
        and run["steps"] == 2
        and set(run["final_losses"]) == {"loss", "loss_neg", "loss_pos"}
    )
    assert BiErasingConfig.from_yaml(out / "config.yaml") == config(smoke_world, tmp_path / "run", save_pipeline=True)
    StableDiffusionPipeline.from_pretrained(out / "pipeline")
    assert sorted(p.name for p in (out / "references" / "negative").glob("*.png")) == ["00000.png", "00001.png"]


def test_lora_output_loads_with_load_lora_weights(smoke_world, tmp_path):
    out = erase(config(smoke_world, tmp_path / "lora", lora_rank=2, learning_rate=1e-1))
    assert not (out / "unet").exists()
    pipe = StableDiffusionPipeline.from_pretrained(smoke_world)
    kwargs = dict(num_inference_steps=2, output_type="np")
    plain = pipe("a nude star", generator=torch.Generator().manual_seed(0), **kwargs).images
    pipe.load_lora_weights(out)
    erased = pipe("a nude star", generator=torch.Generator().manual_seed(0), **kwargs).images
    assert not torch.allclose(torch.from_numpy(plain), torch.from_numpy(erased))


def test_a_folder_with_another_run_is_refused_and_kept(smoke_world, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="--overwrite"):
        erase(config(smoke_world, tmp_path))
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_missing_ip_adapter_is_named_before_training(smoke_world, tmp_path):
    with pytest.raises(UserError, match="no IP-Adapter weights"):
        erase(config(smoke_world, tmp_path / "o", ip_adapter_weight_name="missing.safetensors"))


def test_a_diverging_loss_stops_the_run_and_keeps_the_checkpoint(smoke_world, tmp_path, monkeypatch):
    real = trainer_module.bi_erasing_loss

    def poisoned(*args):
        losses = real(*args)
        return losses if trainer_module_step["n"] < 2 else losses._replace(total=losses.total * float("nan"))

    trainer_module_step = {"n": 0}
    original_backward = BiErasingTrainer.losses

    def counting(self, batch, step):
        trainer_module_step["n"] = step
        return original_backward(self, batch, step)

    monkeypatch.setattr(trainer_module, "bi_erasing_loss", poisoned)
    monkeypatch.setattr(BiErasingTrainer, "losses", counting)
    with pytest.raises(TrainingDiverged, match="step 2.*step-000002"):
        erase(config(smoke_world, tmp_path / "o", max_train_steps=4, checkpointing_steps=2))
    assert (tmp_path / "o" / "checkpoints" / "step-000002" / "trainable.safetensors").is_file()


def test_a_run_that_starts_at_zero_loss_is_not_called_diverged():
    from bierase.methods.bi_erasing.trainer import diverged

    # positive-only runs start at exactly 0 (student == teacher) and then move a little
    assert not diverged(1.9e-8, largest=0.0)
    assert not diverged(0.5, largest=0.02)
    assert diverged(50.0, largest=0.02) and diverged(float("nan"), largest=0.1) and diverged(float("inf"), 0.0)


@pytest.mark.parametrize("bad,message", [
    (dict(train_method="all"), "full, xattn, noxattn, selfattn"),
    (dict(lambda_neg=0, lambda_pos=0), "both 0"),
    (dict(mask_source="sam"), "clipseg, cross_attention, none"),
    (dict(learning_rate=0), "learning_rate"),
    (dict(rollout="reference", rollout_steps=3), "reference rollout has no jumps"),
    (dict(rollout_steps=-1), "rollout_steps"),
    (dict(lambda_preserve=-1), "lambda_preserve"),
])  # fmt: skip
def test_invalid_values_name_the_valid_choices(bad, message):
    with pytest.raises(UserError, match=message):
        BiErasingConfig(**bad)


def test_reference_style_calls_give_the_same_run(smoke_world, tmp_path):
    """Batching and the embedding cache are speed-ups only: unbatched, re-encoded runs reach the same weights."""
    fast = erase(config(smoke_world, tmp_path / "fast", mask_source="none"))
    slow = erase(config(smoke_world, tmp_path / "slow", batched_calls=False, cache_embeddings=False))
    a = load_file(fast / "unet" / "diffusion_pytorch_model.safetensors")
    b = load_file(slow / "unet" / "diffusion_pytorch_model.safetensors")
    assert all(torch.allclose(a[k], b[k], atol=1e-5) for k in a)
    losses_a = json.loads((fast / "bierase.json").read_text())["losses"]
    losses_b = json.loads((slow / "bierase.json").read_text())["losses"]
    assert [h["loss"] for h in losses_a] == pytest.approx([h["loss"] for h in losses_b], rel=1e-4)


def test_esd_and_co_erasing_are_configurations_that_run(smoke_world, tmp_path):
    from bierase.methods.registry import config_class, run_method

    for method in ("esd", "co-erasing"):
        cls = config_class(method)
        cfg = cls(
            pretrained_model_name_or_path=str(smoke_world),
            concept="nude",
            output_dir=str(tmp_path / method),
            num_reference_images=2,
            reference_steps=1,
            max_train_steps=1,
            ddim_steps=2,
            checkpointing_steps=0,
        )
        out = run_method(method, cfg)
        assert json.loads((out / "bierase.json").read_text())["method"] == method
    assert not (tmp_path / "esd" / "references").exists()  # text only: no reference images at all
    with pytest.raises(UserError, match="text-only"):
        config_class("esd")(lambda_pos=0.5)


def test_the_teacher_is_stored_in_the_mixed_precision_dtype(smoke_world):
    """bf16 halves the frozen teacher's memory; the student keeps its fp32 weights; no mixed precision keeps fp32."""
    unet = UNet2DConditionModel.from_pretrained(smoke_world / "unet")
    teacher = trainer_module.frozen_teacher(unet, torch.device("cpu"), "bf16")
    assert {p.dtype for p in teacher.parameters()} == {torch.bfloat16}
    assert not any(p.requires_grad for p in teacher.parameters())
    assert {p.dtype for p in unet.parameters()} == {torch.float32}
    assert {p.dtype for p in trainer_module.frozen_teacher(unet, torch.device("cpu"), "no").parameters()} == {
        torch.float32
    }


def test_a_bf16_run_trains_close_to_the_fp32_run(smoke_world, tmp_path):
    """With its teacher in bf16, a whole bf16 run still trains like fp32 (a guard, not the dtype proof above).

    Each run has its own process: accelerate fixes the precision once per process.
    """
    import subprocess
    import sys

    script = (
        "import sys, json; sys.path.insert(0, {tests!r});"
        "from erasing.test_bi_erasing_trainer import config; from bierase.methods.bi_erasing import erase;"
        "from pathlib import Path; erase(config(Path({world!r}), Path({out!r}), mixed_precision={mp!r}))"
    )
    tests = str(Path(__file__).parents[1])
    for mp in ("bf16", "no"):
        code = script.format(tests=tests, world=str(smoke_world), out=str(tmp_path / mp), mp=mp)
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    bf16, fp32 = (json.loads((tmp_path / mp / "bierase.json").read_text())["losses"] for mp in ("bf16", "no"))
    assert [h["loss"] for h in bf16] == pytest.approx([h["loss"] for h in fp32], rel=0.05, abs=1e-4)
