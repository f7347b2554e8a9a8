import pytest

from bierase.evaluation.intervals import mean, rate, wilson


def test_wilson_by_hand_and_at_the_edges():
    # p = 0.5, n = 100: centre 0.5, half-width 1.96 * sqrt(0.0025 + 0.96e-4) / 1.0384 = 0.0960
    low, high = wilson(50, 100)
    assert low == pytest.approx(0.4038, abs=1e-3) and high == pytest.approx(0.5962, abs=1e-3)
    assert wilson(0, 20)[0] == 0.0 and wilson(0, 20)[1] > 0.1  # no hits is not certainty
    assert wilson(20, 20)[1] == pytest.approx(1.0) and wilson(20, 20)[0] < 0.9


def test_rate_and_mean_carry_their_sample_size():
    r = rate([True, False, True, True])
    assert r["value"] == 0.75 and r["n"] == 4 and r["ci95"][0] < 0.75 < r["ci95"][1]
    m = mean([1.0, 2.0, 3.0], low=None, high=None)
    assert m["value"] == 2.0 and m["n"] == 3 and m["ci95"][0] < 2.0 < m["ci95"][1]


def test_an_accuracys_interval_stays_inside_zero_and_one():
    # two preservation prompts, one right: mean 0.5 +- 1.96 * 0.707 / sqrt(2) = 0.5 +- 0.98, i.e. [-0.48, 1.48] unclipped
    assert mean([0.0, 1.0])["ci95"] == [0.0, 1.0]
    assert mean([0.0, 1.0], low=None, high=None)["ci95"][0] == pytest.approx(-0.48, abs=0.01)
    assert mean([0.9, 1.0, 1.0])["ci95"][1] == 1.0 and mean([0.9, 1.0, 1.0])["ci95"][0] < 0.97
