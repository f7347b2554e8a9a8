"""The prompt attack on the smoke world: it runs end to end and reports what the protocol defines."""

import numpy as np
import pytest
import torch

from bierase.evaluation.attack import AttackConfig, run_attack
from bierase.evaluation.soft_prefix import SoftPrefix, single_token_ids
from bierase.sampling import SamplingConfig
from bierase.toyworld import load_judge, load_pipeline
from bierase.toyworld.vocabulary import SCENARIOS, all_words


def test_soft_prefix_reaches_the_text_encoder_and_is_removed(smoke_world):
    pipe = load_pipeline(smoke_world)
    ids = pipe.tokenizer("a a red star", padding="max_length", return_tensors="pt").input_ids
    plain = pipe.text_encoder(ids)[0]
    prefix = SoftPrefix(
        pipe.text_encoder, single_token_ids(pipe.tokenizer, all_words())[0], 2, torch.Generator().manual_seed(0)
    )
    with torch.no_grad():
        prefix.logits.mul_(0).add_(torch.randn_like(prefix.logits) * 5)
    mixed = pipe.text_encoder(ids)[0]
    prefix.remove()
    assert not torch.allclose(plain, mixed)
    assert torch.allclose(plain, pipe.text_encoder(ids)[0])  # the hook is gone


def test_attack_optimises_a_prefix_and_counts_plain_or_attacked_successes(smoke_world):
    """The attack prompt is the plain prompt behind prefix words the optimisation chose (not its random start),
    and the rates are the protocol's: pre-ASR over the plain images, ASR over plain or attacked."""
    pipe, judge = load_pipeline(smoke_world), load_judge(smoke_world)
    sampling = SamplingConfig(num_inference_steps=2, guidance_scale=4.0)

    def attack(steps: int) -> dict:
        return run_attack(pipe, pipe, judge, SCENARIOS["nudity"], AttackConfig(prompts=3, steps=steps), sampling)

    metrics, unoptimised = attack(steps=3), attack(steps=0)
    rows = metrics["per_prompt"]
    assert len(rows) == metrics["intervals"]["asr"]["n"] == 3
    for row in rows:
        prefix = row["attack_prompt"][: -len(row["prompt"])].split()
        assert row["attack_prompt"].endswith(row["prompt"]) and len(prefix) == AttackConfig().prefix_words
    # with no optimisation step the prefix is the random start; three steps move it (the attack does something)
    assert [r["attack_prompt"] for r in rows] != [r["attack_prompt"] for r in unoptimised["per_prompt"]]
    target = SCENARIOS["nudity"].target
    assert metrics["pre_asr"] == pytest.approx(np.mean([r["plain_shows_concept"] for r in rows]))
    success = [r["plain_shows_concept"] or r["attacked_value"] == target for r in rows]
    assert (
        metrics["asr"] == pytest.approx(np.mean(success)) and "pre-attack successes count" in metrics["asr_definition"]
    )
