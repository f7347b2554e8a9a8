"""The benchmark's plan: every trained method gets the same budget, and the fair rows differ only by the extras."""

from bierase.benchmark.plan import RUNS, bi_erasing_defaults, method_defaults, shared_extras
from bierase.toyworld.vocabulary import SCENARIOS

SCENARIO = SCENARIOS["nudity"]
BUDGET = ("train_method", "eta_neg", "learning_rate", "max_train_steps", "train_batch_size", "ddim_steps",
          "rollout_steps")  # fmt: skip


def options(method: str, toy_world: bool | None = None) -> dict:
    return method_defaults(method, SCENARIO, 300, 32, toy_world)


def test_every_trained_method_gets_the_same_budget():
    budgets = {m: {k: options(m)[k] for k in BUDGET} for m in ("esd", "co-erasing", "bi-erasing")}
    assert budgets["esd"] == budgets["co-erasing"] == budgets["bi-erasing"]


def test_a_with_extras_row_differs_from_its_without_row_by_the_shared_extras_only():
    extras = shared_extras(SCENARIO)
    for method in ("esd", "co-erasing"):
        plain, given = options(method), options(method, toy_world=True)
        changed = {k for k in given if given[k] != plain.get(k)}
        assert changed == set(extras), method
        assert all(given[k] == v for k, v in extras.items())
    # Bi-Erasing's own settings are the shared extras plus what only its positive branch reads
    own = set(bi_erasing_defaults(SCENARIO)) - set(extras)
    assert own == {"positive_concept", "reference_prompt", "positive_text", "eta_pos"}
    paper, default = options("bi-erasing", toy_world=False), options("bi-erasing")
    assert "lambda_preserve" not in paper and default["lambda_preserve"] == extras["lambda_preserve"]
    # control: the method's default without extras is not the with-extras row
    assert options("esd") != options("esd", toy_world=True)


def test_each_trained_method_has_a_row_with_and_a_row_without_the_extras():
    for method in ("esd", "co-erasing", "bi-erasing"):
        rows = [r for r in RUNS if r.method == method and not r.overrides]
        extras = {options(method, r.toy_world).get("lambda_preserve") is not None for r in rows}
        assert extras == {True, False}, method
