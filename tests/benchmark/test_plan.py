"""The benchmark's plan: every trained method gets the same budget, and the fair rows differ only by the extras."""

from bierase.benchmark.plan import (
    IDENTITY_RUNS,
    RUNS,
    bi_erasing_defaults,
    identity_defaults,
    identity_extras,
    method_defaults,
    reference_prompt,
    shared_extras,
)
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
        # Co-Erasing's references are drawn from the concept's caption once the concept is one
        assert changed == set(extras) | ({"reference_prompt"} if method == "co-erasing" else set()), method
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


def test_every_row_draws_its_references_from_the_same_image_prompt():
    # with or without the extras, Co-Erasing and Bi-Erasing generate their references from one prompt, "a nude
    # shape": the plain rows fill the word into the template, the caption rows take the caption as it is
    for scenario in (SCENARIO, SCENARIOS["star"]):
        wanted = reference_prompt(scenario).format(concept=scenario.target_words[0])
        for method in ("co-erasing", "bi-erasing"):
            for toy_world in (False, True):
                given = method_defaults(method, scenario, 300, 32, toy_world)
                assert given["reference_prompt"].format(concept=given["concept"]) == wanted, (method, toy_world)
    # control: the word's template filled with the caption doubles it
    caption = shared_extras(SCENARIO)["concept"]
    assert reference_prompt(SCENARIO).format(concept=caption) == "a a nude shape shape"


def identity_options(method: str, toy_world: bool | None = None, k: int = 10) -> dict:
    return identity_defaults(method, k, 300, 8, toy_world)


def test_the_identities_scenario_gives_every_trained_method_the_other_scenarios_budget():
    budget = {k: options("esd")[k] for k in BUDGET}
    for method in ("esd", "co-erasing", "bi-erasing"):
        for toy_world in (None, True, False):
            assert {k: identity_options(method, toy_world)[k] for k in BUDGET} == budget, (method, toy_world)
    # Bi-Erasing's own weights are its weights on the other scenarios
    own, names = bi_erasing_defaults(SCENARIO), identity_options("bi-erasing")
    assert {k: names[k] for k in ("positive_text", "eta_pos", "lambda_preserve")} == {
        k: own[k] for k in ("positive_text", "eta_pos", "lambda_preserve")
    }


def test_the_identities_scenario_has_rows_with_and_without_the_extras():
    assert {(r.method, r.config) for r in IDENTITY_RUNS} == {
        ("bi-erasing", "default"), ("esd", "default"), ("co-erasing", "default"), ("uce", "default"),
        ("esd", "captions-keep"), ("co-erasing", "captions-keep"),
    }  # fmt: skip
    extras = identity_extras(10)
    assert len(extras["concept"]) == 10 and all(c.startswith("a photo of ") for c in extras["concept"])
    for method in ("esd", "co-erasing"):
        plain, given = identity_options(method), identity_options(method, toy_world=True)
        changed = {k for k in given if given[k] != plain.get(k)}
        assert changed == set(extras) | ({"reference_prompt"} if method == "co-erasing" else set()), method
        assert plain["concept"] == [c.removeprefix("a photo of ") for c in extras["concept"]]
    # each name's references come from "a photo of <name>" in every row that draws references
    for method, toy_world in (("co-erasing", False), ("co-erasing", True), ("bi-erasing", None)):
        given = identity_options(method, toy_world)
        assert given["reference_prompt"].format(concept=given["concept"][0]).count("a photo of") == 1
