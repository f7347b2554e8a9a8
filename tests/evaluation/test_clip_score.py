import numpy as np
import pytest
import torch

from bierase.errors import UserError
from bierase.evaluation.clip_score import cosine_scores, load_clip, logit_scores, summarize

PROMPTS = ["a red star", "a blue cross on a striped background", "a cat", "nude"]


def independent_cosines(model, processor, images, prompts) -> np.ndarray:
    """Towers and projections called one by one, normalised by hand: no shared code with cosine_scores."""
    pixels = processor.image_processor(images=images, return_tensors="pt").pixel_values
    ids = processor.tokenizer(prompts, padding=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        image = model.visual_projection(model.vision_model(pixel_values=pixels).pooler_output)
        text = model.text_projection(
            model.text_model(input_ids=ids.input_ids, attention_mask=ids.attention_mask).pooler_output
        )
    image = image / image.norm(dim=-1, keepdim=True)
    text = text / text.norm(dim=-1, keepdim=True)
    return (image * text).sum(-1).numpy()


def test_cosines_match_an_independent_computation_and_do_not_depend_on_the_batch(tiny_clip):
    model, processor = load_clip(str(tiny_clip))
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in PROMPTS]
    got = cosine_scores(model, processor, images, PROMPTS, batch_size=3)
    expected = independent_cosines(model, processor, images, PROMPTS)
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert np.all(np.abs(got) <= 1 + 1e-6) and np.ptp(got) > 0  # different pairs, different scores
    summary = summarize(got)
    assert summary["cosine"] == pytest.approx(float(expected.mean()), abs=1e-6)
    assert summary["logit"] == pytest.approx(max(100 * float(expected.mean()), 0.0), abs=1e-4)
    np.testing.assert_allclose(logit_scores(got), np.maximum(100 * expected, 0), atol=1e-3)


def test_the_logit_form_clips_the_mean_at_zero_like_torchmetrics():
    assert summarize(np.array([0.3, -0.1]))["logit"] == pytest.approx(10.0)  # not the mean of clipped scores (15)
    assert summarize(np.array([-0.2, -0.1]))["logit"] == 0.0
    np.testing.assert_allclose(logit_scores(np.array([0.31, -0.05])), [31.0, 0.0])


def test_a_clip_model_that_cannot_load_names_the_flag(tmp_path):
    with pytest.raises(UserError, match="could not load the CLIP model .*pass --clip_model"):
        load_clip(str(tmp_path / "no-clip-here"))
