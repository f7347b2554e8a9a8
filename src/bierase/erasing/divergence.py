"""When a training run has diverged: the rule, as a pure function of the losses.

A loss that is not finite has diverged. So has one far above the run's running level: a diffusion loss
varies with the drawn timestep, by a factor of ten or so, but a jump of two orders of magnitude above
the median of the recent steps is the optimizer leaving the basin (a learning rate of 1.0 does it within
a few steps). The level is a median so that one high step does not raise it, and a floor keeps a run
that starts at a loss of ~0 (the student equal to its teacher) from being judged against zero: the
losses are mean squared errors between noise predictions, so with the floor at 0.01 a first-steps
jump must reach 1, the variance of the noise itself, to count. (At 0.001, a tiny model's legitimate
step from 0.0011 to 0.133, a different timestep, was stopped as a divergence; lr 1.0 on the bundled
world goes from 0.004 to 2.7.) The rule
is relative, so a large loss weight (``--lambda_neg 1000``) scales the level with the loss and is never
mistaken for a divergence.
"""

from __future__ import annotations

import math
import statistics

SPIKE_FACTOR = 100.0
WINDOW = 20
LOSS_FLOOR = 1e-2
RULE = (
    f"a run stops (keeping its last checkpoint) when a loss is not finite or exceeds {SPIKE_FACTOR:g} times the "
    f"median of the previous {WINDOW} losses (at least {LOSS_FLOOR:g}), and when its weights stop being finite"
)


def running_level(losses: list[float]) -> float:
    return statistics.median(losses[-WINDOW:])


def divergence(loss: float, previous: list[float]) -> str | None:
    """Why ``loss`` means the run has diverged, given the losses before it; None when it has not."""
    if not math.isfinite(loss):
        return f"the loss is {loss}"
    if not previous:
        return None  # the first step has no level to be judged against
    level = max(running_level(previous), LOSS_FLOOR)
    if loss > SPIKE_FACTOR * level:
        return f"the loss jumped to {loss:.3g}, {loss / level:.0f}x its running level {level:.3g}"
    return None
