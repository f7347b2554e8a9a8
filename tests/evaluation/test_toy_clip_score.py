"""The toy CLIP score: reported per prompt set when the model folder keeps its CLIP."""

from bierase.evaluation.toyworld import evaluate, toy_clip
from bierase.sampling import SamplingConfig
from bierase.toyworld import load_judge, load_pipeline
from bierase.toyworld.vocabulary import SCENARIOS


def test_clip_score_is_reported_per_set_with_its_sample_count(smoke_world):
    clip = toy_clip(smoke_world)
    assert clip is not None
    sampling = SamplingConfig(num_inference_steps=1, guidance_scale=1.0, batch_size=8)
    result = evaluate(load_pipeline(smoke_world), load_judge(smoke_world), SCENARIOS["nudity"], 4, sampling, clip=clip)
    scores = result.metrics["clip_score"]
    assert set(scores) == set(result.sets)
    assert all(
        s["n"] == 4 and -1 <= s["cosine"] <= 1 and s["logit"] == max(100 * s["cosine"], 0) for s in scores.values()
    )


def test_folders_without_a_clip_give_none(tmp_path):
    assert toy_clip(tmp_path) is None
