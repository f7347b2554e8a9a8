"""Bi-Erasing on SDXL's conditions: one training step against the method note's equations written by hand,
with the pooled text embeddings and time ids passed the way diffusers' SDXL pipeline passes them."""

import copy

import pytest
import torch
import torch.nn.functional as F
from tiny_pipelines import ADAPTER

from bierase.erasing.model_loading import load_base_pipeline
from bierase.erasing.rollout import rollout
from bierase.methods.bi_erasing import BiErasingConfig
from bierase.methods.bi_erasing.objective import objective

TINY = dict(
    concept="nude", positive_concept="clothed", num_reference_images=2, reference_steps=1, mask_source="none",
    train_method="xattn", learning_rate=1e-3, max_train_steps=1, ddim_steps=3, checkpointing_steps=0,
    train_batch_size=2, embedding_noise=0.1,
)  # fmt: skip


@pytest.fixture
def sdxl_pipe(sdxl_folder):
    pipe = load_base_pipeline(str(sdxl_folder), torch.device("cpu"))
    subfolder, weight_name = ADAPTER["sdxl"]
    pipe.load_ip_adapter(str(sdxl_folder), subfolder=subfolder, weight_name=weight_name)
    return pipe


def test_texts_carry_the_pooled_embeddings_and_the_empty_prompt_is_the_pipelines_zeros(sdxl_pipe, sdxl_folder, tmp_path,
                                                                                      make_trainer):  # fmt: skip
    cfg = BiErasingConfig(pretrained_model_name_or_path=str(sdxl_folder), output_dir=str(tmp_path), **TINY)
    _, texts = make_trainer(sdxl_pipe, cfg, objective(cfg))
    states, _, pooled, _ = sdxl_pipe.encode_prompt("clothed", do_classifier_free_guidance=False)
    assert torch.equal(texts["positive"], states) and torch.equal(texts.pooled["positive"], pooled)
    # the pipeline's own unconditional branch (force_zeros_for_empty_prompt): zeros, not the encoded ""
    assert sdxl_pipe.config.force_zeros_for_empty_prompt
    assert not texts["empty"].any() and not texts.pooled["empty"].any()


@pytest.mark.parametrize("batched_calls", [True, False])
def test_one_step_equals_the_method_note_on_sdxl(batched_calls, sdxl_pipe, sdxl_folder, tmp_path, make_trainer):
    """Rollout, targets and loss from separate, unbatched UNet calls whose SDXL conditions are written out here;
    Adam's first step by hand."""
    pipe = sdxl_pipe
    cfg = BiErasingConfig(pretrained_model_name_or_path=str(sdxl_folder), output_dir=str(tmp_path),
                          batched_calls=batched_calls, **TINY)  # fmt: skip
    trainer, texts = make_trainer(pipe, cfg, objective(cfg))
    teacher = copy.deepcopy(trainer.teacher)
    before = {n: p.detach().clone() for n, p in trainer.trainable().items()}
    # the rollout resolution is the UNet's sample_size (8 latents = 16 pixels): original = target size, crop (0, 0)
    time_ids = torch.tensor([[16.0, 16.0, 0.0, 0.0, 16.0, 16.0]])

    def call(model, z, t, text: str, image: torch.Tensor, n: int = 2):
        added = {"text_embeds": texts.pooled[text].expand(n, -1), "time_ids": time_ids.expand(n, -1),
                 "image_embeds": [image[:, None]]}  # fmt: skip
        return model(z, t, encoder_hidden_states=texts[text].expand(n, -1, -1), added_cond_kwargs=added).sample

    generator_state = trainer.generator.get_state()
    batch = trainer.draw()

    def guided(latents, t):  # the student, text only (image branch off), guidance 3 on the concept prompt
        no_image = torch.zeros(2, pipe.image_encoder.config.projection_dim)
        uncond, cond = (
            call(trainer.student, latents, t, "empty", no_image),
            call(trainer.student, latents, t, "concept", no_image),
        )
        return uncond + 3.0 * (cond - uncond)

    pipe.set_ip_adapter_scale(0.0)
    z, t = rollout(guided, trainer.scheduler, batch.noise, batch.k)
    pipe.set_ip_adapter_scale(1.0)
    neg, pos = batch.images["negative"], batch.images["positive"]
    student = trainer.student
    with torch.no_grad():
        target_neg = call(teacher, z, t, "empty", neg) - (
            call(teacher, z, t, "concept", neg) - call(teacher, z, t, "empty", neg)
        )
        target_pos = call(teacher, z, t, "positive", pos)  # eta_pos = 1
    expected = 0.6 * F.mse_loss(call(student, z, t, "concept", neg), target_neg) + 0.4 * F.mse_loss(
        call(student, z, t, "positive", pos), target_pos)  # fmt: skip
    grads = torch.autograd.grad(expected, list(trainer.trainable().values()))

    trainer.generator.set_state(generator_state)
    state = trainer.train(tmp_path)
    assert state.history[0]["loss"] == pytest.approx(expected.item(), rel=1e-4)
    stepped = 0
    for (name, new), g in zip(trainer.trainable().items(), grads):
        # Adam's first step: p <- p - lr * g / (|g| + eps); random tiny weights give gradients near Adam's eps,
        # where batched and unbatched calls' rounding flips the step, so only clearly non-zero gradients count
        clear = g.abs() > 1e-6
        step = before[name] - 1e-3 * g / (g.abs() + 1e-8)
        assert torch.allclose(new[clear], step[clear], atol=2e-5), name
        stepped += int(clear.sum())
    assert stepped > 1000
    assert all(".attn2." in name for name in before)  # xattn on SDXL: attn2 of every transformer block
