"""Bi-Erasing's objective against numbers worked out by hand from the method note, section 3, and one
training step of the shared trainer against separate, unbatched UNet calls."""

import copy

import pytest
import torch
import torch.nn.functional as F

from bierase.erasing.conditions import unet_inputs
from bierase.erasing.objective import Condition
from bierase.erasing.rollout import rollout
from bierase.erasing.targets import negative_target, positive_target
from bierase.errors import UserError
from bierase.methods.bi_erasing import BiErasingConfig
from bierase.methods.bi_erasing.objective import BiErasingTerm, branch_weights, objective


def test_targets_by_hand():
    uncond, cond = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 1.0])
    # eta 0.5: 1 - 0.5 * (3 - 1) = 0, 2 - 0.5 * (1 - 2) = 2.5
    assert torch.equal(negative_target(uncond, cond, 0.5), torch.tensor([0.0, 2.5]))
    # eta 2: 1 + 2 * 2 = 5, 2 + 2 * (-1) = 0
    assert torch.equal(positive_target(uncond, cond, 2.0), torch.tensor([5.0, 0.0]))
    # eta_pos = 1: the teacher's own prediction for the safe condition
    assert torch.equal(positive_target(uncond, cond, 1.0), cond)


def test_loss_by_hand():
    # teacher rows: [0;I-], [c_neg;I-], [0;I+], [c_pos;I+]
    teacher = torch.tensor([[1.0, 1.0], [2.0, 0.0], [0.0, 0.0], [1.0, 3.0]])
    student = torch.tensor([[0.0, 2.0], [0.0, 1.0]])  # target_neg (eta 1) = [0, 2]; target_pos = [1, 3]: (1 + 4) / 2
    losses = BiErasingTerm(BiErasingConfig()).loss(student, teacher, step=0)
    assert losses.parts["loss_neg"].item() == pytest.approx(0.0)
    assert losses.parts["loss_pos"].item() == pytest.approx(2.5)
    assert losses.total.item() == pytest.approx(0.4 * 2.5)


def test_the_conditions_are_the_method_notes_and_a_branch_of_weight_zero_costs_no_call():
    term = BiErasingTerm(BiErasingConfig())
    assert term.teacher == (Condition("empty", "negative"), Condition("concept", "negative"),
                            Condition("empty", "positive"), Condition("positive", "positive"))  # fmt: skip
    assert term.student == (Condition("concept", "negative"), Condition("positive", "positive"))
    assert BiErasingTerm(BiErasingConfig(positive_text="concept")).student[1] == Condition("concept", "positive")
    negative_only = BiErasingTerm(BiErasingConfig(lambda_pos=0.0))
    assert negative_only.teacher == term.teacher[:2] and negative_only.student == term.student[:1]
    teacher = torch.tensor([[1.0, 1.0], [2.0, 0.0]])
    losses = negative_only.loss(torch.tensor([[1.0, 2.0]]), teacher, step=0)  # target [0, 2]: (1 + 0) / 2
    assert losses.total.item() == pytest.approx(0.6 * 0.5) and set(losses.parts) == {"loss_neg"}
    text_only = BiErasingTerm(BiErasingConfig(image_conditioning=False))
    assert all(c.image is None for c in (*text_only.teacher, *text_only.student))


def test_two_stage_schedule():
    assert branch_weights(0, 10, 0.6, 0.4, None) == (0.6, 0.4)
    assert [branch_weights(s, 10, 0.6, 0.4, 0.2) for s in (0, 1, 2, 9)] == [(0, 0.4), (0, 0.4), (0.6, 0), (0.6, 0)]


@pytest.mark.parametrize("bad,message", [
    (dict(train_method="all"), "full, xattn, noxattn, selfattn"),
    (dict(lambda_neg=0, lambda_pos=0), "both 0"),
    (dict(mask_source="sam"), "clipseg, cross_attention, none"),
    (dict(learning_rate=0), "learning_rate"),
    (dict(rollout="reference", rollout_steps=3), "reference rollout has no jumps"),
    (dict(rollout_steps=-1), "rollout_steps"),
    (dict(lambda_preserve=-1), "lambda_preserve"),
    (dict(two_stage=1.5), "two_stage"),
])  # fmt: skip
def test_invalid_values_name_the_valid_choices(bad, message):
    with pytest.raises(UserError, match=message):
        BiErasingConfig(**bad)


def test_one_step_equals_the_method_note(smoke_world, tmp_path, tiny_config, make_trainer):
    """Loss from separate, unbatched teacher/student calls and hand-written targets; Adam's first step by hand."""
    from bierase.toyworld import load_pipeline

    pipe = load_pipeline(smoke_world, ip_adapter=True)
    cfg = tiny_config("bi-erasing", tmp_path, max_train_steps=1, train_batch_size=2, embedding_noise=0.1)
    trainer, texts = make_trainer(pipe, cfg, objective(cfg))
    teacher = copy.deepcopy(trainer.teacher)
    before = {n: p.detach().clone() for n, p in trainer.trainable().items()}

    generator_state = trainer.generator.get_state()
    batch = trainer.draw()
    pipe.set_ip_adapter_scale(0.0)
    z, t = rollout(trainer.rollout_predictor(batch), trainer.scheduler, batch.noise, batch.k)
    pipe.set_ip_adapter_scale(1.0)
    neg, pos = batch.images["negative"], batch.images["positive"]

    def eps(model, text, image):
        return model(z, t, **unet_inputs(texts[text].expand(2, -1, -1), image)).sample

    student = trainer.student
    target_neg = eps(teacher, "empty", neg) - (eps(teacher, "concept", neg) - eps(teacher, "empty", neg))
    target_pos = eps(teacher, "positive", pos)  # eta_pos = 1
    expected = 0.6 * F.mse_loss(eps(student, "concept", neg), target_neg.detach()) + 0.4 * F.mse_loss(
        eps(student, "positive", pos), target_pos.detach())  # fmt: skip
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
