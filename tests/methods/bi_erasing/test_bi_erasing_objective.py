"""The objective against numbers worked out by hand from the method note, section 3."""

import pytest
import torch

from bierase.methods.bi_erasing.loss import (
    bi_erasing_loss,
    branch_weights,
    negative_target,
    positive_target,
    with_preservation,
)


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
    student_neg = torch.tensor([[0.0, 2.0]])  # target_neg (eta 1) = 1 - (2 - 1), 1 - (0 - 1) = [0, 2]
    student_pos = torch.tensor([[0.0, 1.0]])  # target_pos (eta 1) = [1, 3]; squared error (1 + 4) / 2
    losses = bi_erasing_loss(student_neg, student_pos, teacher, 0.6, 0.4, 1.0, 1.0)
    assert losses.negative.item() == pytest.approx(0.0)
    assert losses.positive.item() == pytest.approx(2.5)
    assert losses.total.item() == pytest.approx(0.4 * 2.5)


def test_two_stage_schedule():
    assert branch_weights(0, 10, 0.6, 0.4, None) == (0.6, 0.4)
    assert [branch_weights(s, 10, 0.6, 0.4, 0.2) for s in (0, 1, 2, 9)] == [(0, 0.4), (0, 0.4), (0.6, 0), (0.6, 0)]


def test_preservation_term_by_hand():
    teacher = torch.tensor([[1.0, 1.0], [2.0, 0.0], [0.0, 0.0], [1.0, 3.0]])
    losses = bi_erasing_loss(torch.tensor([[0.0, 2.0]]), torch.tensor([[0.0, 1.0]]), teacher, 0.6, 0.4, 1.0, 1.0)
    assert losses.preservation is None
    # squared error (1 + 9) / 2 = 5, weighted 0.5 on top of the 1.0 of the two branches
    kept = with_preservation(losses, torch.tensor([[1.0, 3.0]]), torch.tensor([[0.0, 0.0]]), 0.5)
    assert kept.preservation.item() == pytest.approx(5.0)
    assert kept.total.item() == pytest.approx(1.0 + 0.5 * 5.0)
    assert (kept.negative, kept.positive) == (losses.negative, losses.positive)
