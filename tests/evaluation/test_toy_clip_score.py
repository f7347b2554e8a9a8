"""The toy CLIP score: reported per prompt set when the model folder keeps its CLIP."""

import pytest
import torch
import torch.nn.functional as F

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
    model, processor = clip
    for name, score in scores.items():  # each set's own images against its own prompts, computed another way
        prompts = result.sets[name].prompts
        with torch.no_grad():
            text = model.get_text_features(**processor(text=prompts, return_tensors="pt", padding=True))
            image = model.get_image_features(**processor(images=list(result.images[name]), return_tensors="pt"))
        expected = F.cosine_similarity(getattr(image, "pooler_output", image), getattr(text, "pooler_output", text))
        assert score["n"] == 4 and score["cosine"] == pytest.approx(float(expected.mean()), abs=1e-5), name
        assert score["logit"] == max(100 * score["cosine"], 0)


def test_folders_without_a_clip_give_none(tmp_path):
    assert toy_clip(tmp_path) is None
