"""Fréchet distance between two feature sets (the formula behind FID), and clean-fid for the real FID.

``features_frechet`` works with any feature extractor (the toy world uses its
judge's features). The published FID figure needs clean-fid's Inception
features (mode ``clean``); clean-fid is optional because installing it pulls
torchvision, which does not install beside every torch build, so it is used
only when the user has installed it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import linalg

from bierase.errors import UserError

EPS = 1e-6
MIN_SAMPLES = 2  # a covariance needs at least two samples


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """``|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))`` between two Gaussians."""
    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(f"shapes do not match: mu {mu1.shape} / {mu2.shape}, sigma {sigma1.shape} / {sigma2.shape}")
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        # singular product (fewer samples than dimensions): nudge both covariances, as pytorch-fid does
        offset = np.eye(sigma1.shape[0]) * EPS
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"the matrix square root has an imaginary part {np.abs(covmean.imag).max():.3g}")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, np.float64)
    if features.ndim != 2:
        raise ValueError(f"features must be (samples, dims), got shape {features.shape}")
    if len(features) < MIN_SAMPLES:
        raise UserError(
            f"a Fréchet distance needs at least {MIN_SAMPLES} samples per set, got {len(features)}; use more images"
        )
    return features.mean(0), np.cov(features, rowvar=False).reshape(features.shape[1], features.shape[1])


def features_frechet(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Fréchet distance between the Gaussians fitted to two (samples, dims) feature arrays."""
    return frechet_distance(*statistics(features_a), *statistics(features_b))


def clean_fid(images: str | Path, reference_images: str | Path, mode: str = "clean") -> float:
    """FID with clean-fid (Inception features, its ``clean`` resizing) between two image folders."""
    try:
        from cleanfid import fid
    except ImportError as error:
        raise UserError(
            "the fid protocol needs clean-fid, which is not installed: install clean-fid "
            "(pip install clean-fid; it pulls torchvision, so install the torchvision that matches your torch)"
        ) from error
    return float(fid.compute_fid(str(images), str(reference_images), mode=mode))
