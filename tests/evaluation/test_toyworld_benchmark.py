"""Protocol toyworld-erasure/v3 on the bundled model: it tells erased, intact and destroyed apart."""

import numpy as np
import pytest
import torch
from diffusers import UNet2DConditionModel

from bierase.evaluation.toyworld import evaluate, metrics_from_judgements, prompt_sets
from bierase.sampling import SamplingConfig
from bierase.toyworld import load_judge, load_pipeline, model_path
from bierase.toyworld.pool import render_pool
from bierase.toyworld.vocabulary import SCENARIOS
from bierase.toyworld.world import LABELS

FAST = SamplingConfig(num_inference_steps=20, guidance_scale=4.0, batch_size=64)


@pytest.fixture(scope="module")
def bundled():
    return load_pipeline(), load_judge()


@pytest.fixture(scope="module")
def original(bundled):
    pipe, judge = bundled
    return evaluate(pipe, judge, SCENARIOS["nudity"], 24, FAST)


def test_judge_agrees_with_ground_truth_on_renders(bundled):
    pool = render_pool(300, seed=123_456)
    seen = bundled[1].predict(pool.images)
    for attribute, values in LABELS.items():
        truth = [values[i] for i in pool.labels[attribute].tolist()]
        assert np.mean([a == b for a, b in zip(seen[attribute], truth)]) >= 0.97, attribute


def test_the_original_model_shows_the_concept(original):
    assert original.metrics["concept_rate"]["explicit"] >= 0.8
    assert original.metrics["verdict"] == "not erased"


def test_a_random_unet_is_reported_destroyed_not_erased(bundled, original):
    pipe, judge = bundled
    base = pipe.unet
    torch.manual_seed(0)
    pipe.register_modules(unet=UNet2DConditionModel.from_config(base.config))
    try:
        broken = evaluate(pipe, judge, SCENARIOS["nudity"], 24, FAST, original=original)
    finally:
        pipe.register_modules(unet=base)
    assert broken.metrics["verdict"] == "destroyed"
    assert broken.metrics["preservation"] < original.metrics["preservation"] - 0.3


def test_metrics_follow_the_judgements_by_hand():
    scenario = SCENARIOS["star"]
    sets = prompt_sets(scenario, 4)
    seen = {}
    for name, s in sets.items():
        labels = {a: [getattr(spec, a) for spec in s.specs] for a in LABELS}
        seen[name] = labels
    seen["explicit"]["shape"] = ["star", "circle", "circle", "square"]  # 1 of 4 shows it, 2 of 4 the safe shape
    m = metrics_from_judgements(scenario, sets, seen)
    assert m["concept_rate"]["explicit"] == 0.25 and m["preservation"] == 1.0
    assert m["safe_rate"] == pytest.approx(2 / 8)  # synonym set: all stars, none safe
    assert m["intervals"]["concept_rate.explicit"]["n"] == 4


def test_bundled_folder_is_what_toyworld_path_prints():
    assert (model_path() / "model_index.json").is_file() and (model_path() / "README.md").is_file()


def test_retain_prompts_are_unrelated_and_drawn_from_their_own_seed():
    from bierase.evaluation.toyworld import DEV_SEED, RETAIN_SEED, SEED, retain_prompts
    from bierase.toyworld.vocabulary import ATTRIBUTES, SCENARIOS
    from bierase.toyworld.world import SPECIAL_COLOURS

    for scenario in SCENARIOS.values():
        prompts = retain_prompts(scenario, 32)
        banned = set(scenario.target_words) | set(scenario.safe_words)
        banned |= {w for colour in SPECIAL_COLOURS for w in ATTRIBUTES["colour"][colour]}
        assert not [p for p in prompts if banned & set(p.split())]
        assert prompts == retain_prompts(scenario, 32, seed=RETAIN_SEED)
        assert RETAIN_SEED not in (SEED, DEV_SEED) and prompts != retain_prompts(scenario, 32, seed=SEED)


def test_every_caption_names_what_it_is_scored_on():
    from bierase.toyworld.world import mentions

    for scenario in SCENARIOS.values():
        sets = prompt_sets(scenario, 48)
        for name in ("explicit", "synonym"):
            for prompt in sets[name].prompts:
                assert mentions(prompt, scenario.attribute, scenario.target), (scenario.name, name, prompt)
        for prompt, spec in zip(sets["preservation"].prompts, sets["preservation"].specs):
            for attribute in LABELS:
                assert mentions(prompt, attribute, getattr(spec, attribute)), (scenario.name, attribute, prompt)


@pytest.mark.parametrize("flag,path,message", [
    ("--unet", "missing", "holds no UNet or LoRA"),
    ("--lora", "missing", "holds no UNet or LoRA"),
    ("--output_dir", "file/sub", "is under the file"),
])  # fmt: skip
def test_the_toyworld_benchmark_checks_every_path_before_evaluating(flag, path, message, tmp_path, capsys,
                                                                    monkeypatch):  # fmt: skip
    """A bad --unet, --lora or --output_dir ends in one line before the minutes of the base model's evaluation."""
    from bierase.cli.main import main
    from bierase.evaluation import toyworld

    monkeypatch.setattr(toyworld, "evaluate", lambda *a, **k: pytest.fail("evaluated before checking the paths"))
    (tmp_path / "file").write_text("x")
    argv = {"--unet": None, "--lora": None, "--output_dir": str(tmp_path / "out"), flag: str(tmp_path / path)}
    words = ["evaluate", "--benchmark", "toyworld", "--pretrained_model_name_or_path", str(model_path()),
             "--concept", "nudity", *[w for k, v in argv.items() if v for w in (k, v)]]  # fmt: skip
    assert main(words) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
