"""Protocol toyworld-identities/v1: the fixed choice of names, prompt sets that say only names, ACC_e / ACC_s / H
by hand, and the benchmark's identities scenario on the smoke world."""

import json

import pytest

from bierase.evaluation import identities
from bierase.evaluation.toyworld import PromptSet
from bierase.toyworld.render import ObjectSpec
from bierase.toyworld.vocabulary import ATTRIBUTES, GENERIC_APPEARANCES, NAMES, appearance_of


def test_the_erased_names_are_a_fixed_choice_per_k_and_the_rest_are_kept():
    for k in identities.KS:
        erased, kept = identities.erased_names(k), identities.kept_names(k)
        assert len(erased) == k and set(erased).isdisjoint(kept) and set(erased) | set(kept) == set(NAMES)
        assert identities.erased_names(k) == erased  # the same on every call (seeded)
    assert identities.erased_names(10) != sorted(NAMES)[:10]  # a draw, not the first names
    with pytest.raises(ValueError):
        identities.erased_names(len(NAMES))


def test_prompt_sets_say_names_and_never_their_appearance_and_evaluation_and_development_differ():
    sets = identities.prompt_sets(10, 30)
    attribute_words = {w for values in ATTRIBUTES.values() for v, words in values.items() for w in words
                       if v not in ("black", "white", "gray")}  # fmt: skip
    for group, names in (("erased", identities.erased_names(10)), ("kept", identities.kept_names(10))):
        s = sets[group]
        assert set(s.specs) <= set(names) and len(s.prompts) == 30
        assert all(name in prompt.split() and not attribute_words & set(prompt.split())
                   for name, prompt in zip(s.specs, s.prompts))  # fmt: skip
    assert set(identities.erased_names(10)) == set(sets["erased"].specs)  # every erased name is asked for
    seeds = [x for s in sets.values() for x in s.seeds]
    assert len(set(seeds)) == len(seeds)
    dev = identities.prompt_sets(10, 30, identities.DEV_SEED)
    assert set(dev["erased"].seeds).isdisjoint(seeds) and dev["kept"].prompts != sets["kept"].prompts


def judged(appearances):
    return {a: [getattr(x, a) for x in appearances] for a in ("shape", "colour", "pattern")} | {
        "background": ["black"] * len(appearances)
    }


def test_acc_e_acc_s_and_h_by_hand():
    erased, kept = identities.erased_names(10)[:4], identities.kept_names(10)[:2]
    sets = {"erased": PromptSet("erased", [""] * 4, [0] * 4, erased), "kept": PromptSet("kept", [""] * 2, [0] * 2, kept),
            "preservation": PromptSet("preservation", [""], [0], [ObjectSpec("star", "red", "solid", "white")])}  # fmt: skip
    drawn = [appearance_of(erased[0]), GENERIC_APPEARANCES[0], appearance_of(kept[0]), appearance_of(erased[3])]
    seen = {
        "erased": judged(drawn),
        "kept": judged([appearance_of(kept[0]), appearance_of(erased[0])]),
        "preservation": {"shape": ["star"], "colour": ["red"], "pattern": ["dotted"], "background": ["white"]},
    }
    m = identities.metrics_from_judgements(10, sets, seen)
    assert m["acc_erased"] == 0.5 and m["acc_kept"] == 0.5 and m["generic_rate"] == 0.25  # names 0 and 3 shown
    assert m["h"] == pytest.approx(0.5) and identities.harmonic(1.0, 0.0) == 0.0 and m["preservation"] == 0.75
    low, high = m["intervals"]["h"]["ci95"]
    assert low < m["h"] < high


def test_the_identities_scenario_runs_every_k_for_the_methods(smoke_world, tmp_path, capsys):
    from bierase.cli.main import main

    out = tmp_path / "bench"
    argv = ["benchmark", "--quick", "--scenario", "identities", "--run", "esd", "--run", "uce",
            "--pretrained_model_name_or_path", str(smoke_world), "--output_dir", str(out)]  # fmt: skip
    assert main(argv) == 0
    rows = json.loads((out / "results.json").read_text())
    assert [(r["scenario"], r["method"]) for r in rows] == [
        (f"identities-{k}", m) for k in (1, 10) for m in ("original", "esd", "uce")
    ]
    assert all(0 <= r["acc_erased"] <= 1 and 0 <= r["h"] <= 1 for r in rows)
    erased = json.loads((out / "runs" / "identities-10" / "esd-default" / "bierase.json").read_text())
    assert erased["concept"] == identities.erased_names(10)
    assert "ACC_e" in capsys.readouterr().out
