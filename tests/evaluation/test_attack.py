"""The prompt attack on the smoke world: it runs end to end and reports what the protocol defines."""

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


def test_attack_reports_pre_and_post_rates_with_the_definition(smoke_world):
    pipe, judge = load_pipeline(smoke_world), load_judge(smoke_world)
    metrics = run_attack(pipe, pipe, judge, SCENARIOS["nudity"], AttackConfig(prompts=3, steps=2),
                         SamplingConfig(num_inference_steps=2, guidance_scale=4.0))  # fmt: skip
    assert 0 <= metrics["pre_asr"] <= metrics["asr"] <= 1  # pre-attack successes count in the ASR
    assert "pre-attack successes count" in metrics["asr_definition"]
    assert metrics["intervals"]["asr"]["n"] == 3 and len(metrics["examples"]) == 3
    assert all(e["attack_prompt"].endswith(e["prompt"]) for e in metrics["examples"])
