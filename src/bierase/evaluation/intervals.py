"""95 % intervals for the figures a benchmark reports, so no rate is read without its sample size."""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959964


def wilson(hits: int, n: int) -> tuple[float, float]:
    """Wilson score interval of a binomial rate: well behaved at 0 % and 100 %, unlike the normal one."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(flags: Sequence[bool]) -> dict:
    """``{"value", "ci95", "n"}`` for a list of yes/no outcomes."""
    n, hits = len(flags), int(sum(bool(f) for f in flags))
    low, high = wilson(hits, n)
    return {"value": hits / n if n else float("nan"), "ci95": [low, high], "n": n}


def mean(values: Sequence[float], low: float = 0.0, high: float = 1.0) -> dict:
    """``{"value", "ci95", "n"}`` for a mean (normal approximation), the interval kept inside the values'
    range ``[low, high]`` (an accuracy's interval never leaves [0, 1]; pass ``None`` for an unbounded one)."""
    n = len(values)
    m = sum(values) / n
    var = sum((v - m) ** 2 for v in values) / max(n - 1, 1)
    half = Z95 * math.sqrt(var / n)
    lower, upper = m - half, m + half
    if low is not None:
        lower = max(low, lower)
    if high is not None:
        upper = min(high, upper)
    return {"value": m, "ci95": [lower, upper], "n": n}
