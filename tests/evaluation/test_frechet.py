import sys

import numpy as np
import pytest

from bierase.errors import UserError
from bierase.evaluation.frechet import clean_fid, features_frechet, frechet_distance


@pytest.mark.parametrize("m1,s1,m2,s2", [(0.0, 1.0, 0.0, 1.0), (1.0, 2.0, -2.0, 0.5), (3.0, 0.1, 3.5, 4.0)])
def test_one_dimensional_gaussians_match_the_closed_form(m1, s1, m2, s2):
    got = frechet_distance(np.array([m1]), np.array([[s1**2]]), np.array([m2]), np.array([[s2**2]]))
    assert got == pytest.approx((m1 - m2) ** 2 + (s1 - s2) ** 2, abs=1e-9)


def test_diagonal_covariances_add_up_per_dimension():
    mu1, mu2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 0.0])
    sd1, sd2 = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0])
    expected = ((mu1 - mu2) ** 2).sum() + ((sd1 - sd2) ** 2).sum()
    assert frechet_distance(mu1, np.diag(sd1**2), mu2, np.diag(sd2**2)) == pytest.approx(expected)


def test_identical_sets_are_at_distance_zero_and_a_shift_costs_its_square():
    features = np.random.default_rng(0).normal(size=(200, 8))
    assert abs(features_frechet(features, features)) < 1e-6
    # same covariance, means 0.5 apart in each of 8 dimensions: 8 * 0.25
    assert features_frechet(features, features + 0.5) == pytest.approx(2.0, abs=1e-6)


def test_fewer_samples_than_dimensions_still_give_a_finite_distance():
    rng = np.random.default_rng(1)
    assert np.isfinite(features_frechet(rng.normal(size=(4, 16)), rng.normal(size=(5, 16))))


def test_a_set_of_one_is_refused():
    with pytest.raises(UserError, match="at least 2 samples per set, got 1"):
        features_frechet(np.zeros((1, 3)), np.zeros((5, 3)))


def test_fid_without_clean_fid_says_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "cleanfid", None)  # an import of it now fails, installed or not
    with pytest.raises(UserError, match="install clean-fid"):
        clean_fid(tmp_path, tmp_path)
