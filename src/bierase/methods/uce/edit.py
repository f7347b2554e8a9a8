"""UCE's closed-form edit of one linear projection (Gandikota et al., 2024, eq. 7, identity-regularised).

For a projection ``W`` (out x d), erase inputs ``c_i`` with targets ``v_i*``
and preserve inputs ``c_j``, the edited weights minimise

    erase_scale * sum_i ||W' c_i - v_i*||^2
    + preserve_scale * sum_j ||W' c_j - W c_j||^2
    + ||W' - W||_F^2

whose normal equations give

    W' = (erase_scale * sum_i v_i* c_i^T + preserve_scale * sum_j W c_j c_j^T + W)
         @ inverse(erase_scale * sum_i c_i c_i^T + preserve_scale * sum_j c_j c_j^T + I).

The right-hand matrix is symmetric positive definite (the identity term), so the
inverse always exists; it is applied with a linear solve, in float64.
"""

from __future__ import annotations

import torch


def closed_form_edit(
    W: torch.Tensor,
    erase_inputs: torch.Tensor,
    erase_targets: torch.Tensor,
    preserve_inputs: torch.Tensor | None = None,
    erase_scale: float = 1.0,
    preserve_scale: float = 1.0,
) -> torch.Tensor:
    """The edited weights (same shape, dtype and device as ``W``; ``W`` itself is not changed).

    ``erase_inputs`` (N, d) are the c_i, ``erase_targets`` (N, out) the v_i*,
    ``preserve_inputs`` (M, d) the c_j (None or M = 0: nothing preserved).
    """
    if W.ndim != 2:
        raise ValueError(f"W must be a matrix (out x d), got shape {tuple(W.shape)}")
    out_features, in_features = W.shape
    if erase_inputs.ndim != 2 or erase_inputs.shape[1] != in_features:
        raise ValueError(f"erase_inputs must be (N, {in_features}), got {tuple(erase_inputs.shape)}")
    if erase_targets.shape != (erase_inputs.shape[0], out_features):
        raise ValueError(
            f"erase_targets must be ({erase_inputs.shape[0]}, {out_features}), got {tuple(erase_targets.shape)}"
        )
    if preserve_inputs is not None and (preserve_inputs.ndim != 2 or preserve_inputs.shape[1] != in_features):
        raise ValueError(f"preserve_inputs must be (M, {in_features}), got {tuple(preserve_inputs.shape)}")
    if erase_scale < 0 or preserve_scale < 0:
        raise ValueError(f"scales must be >= 0, got erase_scale={erase_scale}, preserve_scale={preserve_scale}")

    f64 = dict(dtype=torch.float64, device=W.device)
    w = W.detach().to(**f64)
    c = erase_inputs.detach().to(**f64)
    v = erase_targets.detach().to(**f64)
    numerator = w + erase_scale * (v.T @ c)  # (out, d)
    denominator = torch.eye(in_features, **f64) + erase_scale * (c.T @ c)  # (d, d)
    if preserve_inputs is not None and preserve_inputs.shape[0]:
        p = preserve_inputs.detach().to(**f64)
        numerator = numerator + preserve_scale * ((w @ p.T) @ p)
        denominator = denominator + preserve_scale * (p.T @ p)
    # numerator @ inverse(denominator), as the solution X of X @ denominator = numerator
    edited = torch.linalg.solve(denominator, numerator, left=False)
    return edited.to(dtype=W.dtype)
