"""ESD's objective: its equation, text only, with two teacher conditions and one student condition.

``L = || eps_theta(z,t,c) - (eps*(z,t,0) - eta (eps*(z,t,c) - eps*(z,t,0))) ||^2``. The step check is also run
on a control, the former ESD (Bi-Erasing's four teacher and two student calls with a positive branch
weighted zero), to show that it fails there: that objective's loss is the same number, its calls are not.
(A test module may import two methods' packages; the methods themselves never do.)
"""

import copy

import pytest
import torch
import torch.nn.functional as F

from bierase.erasing.objective import Condition
from bierase.erasing.rollout import rollout
from bierase.methods.bi_erasing.objective import BiErasingTerm
from bierase.methods.esd import ESDConfig
from bierase.methods.esd.objective import objective


def test_the_loss_by_hand():
    (term,) = objective(ESDConfig(eta_neg=2.0))
    teacher = torch.tensor([[1.0, 1.0], [2.0, 0.0]])  # eps*(0), eps*(c): target 1 - 2 (2 - 1), 1 - 2 (0 - 1) = [-1, 3]
    losses = term.loss(torch.tensor([[0.0, 3.0]]), teacher, step=0)  # squared error (1 + 0) / 2
    assert losses.total.item() == pytest.approx(0.5) and losses.parts["loss_neg"].item() == pytest.approx(0.5)


def test_the_conditions_are_text_only_two_for_the_teacher_one_for_the_student():
    (term,) = objective(ESDConfig())
    assert term.teacher == (Condition("empty"), Condition("concept")) and term.student == (Condition("concept"),)
    assert ESDConfig().train_method == "xattn"  # ESD-x, the method's own default


def check_esd_step(trainer, texts, teacher_copy):
    """One step of ``trainer``: its loss is ESD's equation on plain UNet calls, made in one teacher call of
    2B samples and one student call of B samples (besides the rollout, which has no gradient)."""
    calls = []

    def record(name):
        return lambda module, args, kwargs: calls.append((name, len(args[0]), torch.is_grad_enabled()))

    hooks = [trainer.teacher.register_forward_pre_hook(record("teacher"), with_kwargs=True),
             trainer.student.register_forward_pre_hook(record("student"), with_kwargs=True)]  # fmt: skip
    state = trainer.generator.get_state()
    batch = trainer.draw()
    z, t = rollout(trainer.rollout_predictor(batch), trainer.scheduler, batch.noise, batch.k)
    trainer.generator.set_state(state)
    calls.clear()
    losses = trainer.losses(trainer.draw(), step=0)
    for hook in hooks:
        hook.remove()
    b = trainer.config.train_batch_size
    with torch.no_grad():
        uncond, concept = (teacher_copy(z, t, texts[k].expand(b, -1, -1)).sample for k in ("empty", "concept"))
        student = trainer.student(z, t, texts["concept"].expand(b, -1, -1)).sample
    expected = F.mse_loss(student, uncond - trainer.config.eta_neg * (concept - uncond))
    assert losses.total.item() == pytest.approx(expected.item(), rel=1e-5)
    trained = [(name, n) for name, n, grad in calls if name == "teacher" or grad]
    assert trained == [("teacher", 2 * b), ("student", b)], trained


def test_one_step_is_esds_equation_in_two_teacher_and_one_student_call(smoke_world, tmp_path, tiny_config,
                                                                        make_trainer):  # fmt: skip
    from bierase.toyworld import load_pipeline

    cfg = tiny_config("esd", tmp_path, train_batch_size=2)
    trainer, texts = make_trainer(load_pipeline(smoke_world), cfg, objective(cfg))
    check_esd_step(trainer, texts, copy.deepcopy(trainer.teacher))

    # the control: ESD as it was, Bi-Erasing without images and its positive branch weighted (next to) zero: the
    # same loss, not ESD's calls
    former_cfg = tiny_config("bi-erasing", tmp_path, train_batch_size=2, image_conditioning=False, lambda_neg=1.0,
                             lambda_pos=1e-30)  # fmt: skip
    former, former_texts = make_trainer(load_pipeline(smoke_world), former_cfg, [BiErasingTerm(former_cfg)])
    with pytest.raises(AssertionError, match="teacher"):
        check_esd_step(former, former_texts, copy.deepcopy(former.teacher))
