"""The mask sources on tiny random models: shapes, ranges, query pooling, and the UNet left as it was."""

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, StableDiffusionPipeline
from transformers import CLIPSegForImageSegmentation, CLIPTextConfig, CLIPTextModel

from bierase.errors import UserError
from bierase.masks import MASK_SOURCES
from bierase.masks.clipseg import ClipSegMasker
from bierase.masks.cross_attention import AttentionRecorder, CrossAttentionMasker, concept_token_columns
from bierase.masks.sources import CleanupConfig, make_masks
from bierase.toyworld.tokenizer import MAX_LENGTH, build_tokenizer
from bierase.toyworld.train.segmenter import segmenter_config, segmenter_processor
from bierase.toyworld.train.unet import make_unet
from bierase.toyworld.train.vae import make_vae
from bierase.toyworld.vocabulary import all_words

LOOSE = CleanupConfig(threshold=0.5, radius=0, sigma=0.5)


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer(all_words())


@pytest.fixture(scope="module")
def segmenter(tokenizer):
    torch.manual_seed(0)
    return CLIPSegForImageSegmentation(segmenter_config(len(tokenizer), width=32)).eval(), segmenter_processor(
        tokenizer
    )


@pytest.fixture(scope="module")
def pipe(tokenizer):
    torch.manual_seed(0)
    n = len(tokenizer)
    text = CLIPTextConfig(
        vocab_size=n, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        max_position_embeddings=MAX_LENGTH, bos_token_id=n - 2, eos_token_id=n - 1, pad_token_id=n - 1,
    )  # fmt: skip
    pipe = StableDiffusionPipeline(
        vae=make_vae(16).eval(), text_encoder=CLIPTextModel(text).eval(), tokenizer=tokenizer,
        unet=make_unet(32, width=16).eval(), scheduler=DDIMScheduler(beta_schedule="scaled_linear", steps_offset=1, clip_sample=False),
        safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )  # fmt: skip
    return pipe


def images(second=(20, 28)):
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), rng.integers(0, 256, (*second, 3), dtype=np.uint8)]


def processor_types(unet):
    return {name: type(processor) for name, processor in unet.attn_processors.items()}


def test_an_unknown_source_or_missing_inputs_are_user_errors():
    with pytest.raises(UserError, match="choose one of clipseg, cross_attention, none"):
        make_masks("sam", images())
    with pytest.raises(UserError, match="segmenter and text queries"):
        make_masks("clipseg", images(), queries=["star"])
    with pytest.raises(UserError, match="pipeline and the concept"):
        make_masks("cross_attention", images(), concept="star")
    assert MASK_SOURCES == ("clipseg", "cross_attention", "none")


def test_the_none_source_keeps_every_pixel():
    masks = make_masks("none", images())
    assert [m.shape for m in masks] == [(32, 32), (20, 28)]
    assert all(m.min() == 1 for m in masks)


def test_clipseg_masks_are_soft_and_at_each_images_size(segmenter):
    masks = make_masks("clipseg", images(), segmenter=segmenter, queries=["star", "red"], cleanup=LOOSE)
    assert [m.shape for m in masks] == [(32, 32), (20, 28)]
    for mask in masks:
        assert mask.dtype == np.float32 and 0 <= mask.min() and mask.max() <= 1


def test_clipseg_pools_queries_by_maximum_whatever_the_batching(segmenter):
    model, processor = segmenter
    same_size = images(second=(32, 32))  # the segmenter's own size: no resize between pooling and comparing
    both = ClipSegMasker(model, processor, ["star", "red"], batch_size=64).probabilities(same_size)
    star = ClipSegMasker(model, processor, ["star"], batch_size=1).probabilities(same_size)
    red = ClipSegMasker(model, processor, ["red"], batch_size=1).probabilities(same_size)
    assert not np.allclose(star[0], red[0])  # the queries differ, so the pooling is tested
    for pooled, a, b in zip(both, star, red):
        np.testing.assert_allclose(pooled, np.maximum(a, b), atol=1e-5)


def test_clipseg_needs_queries(segmenter):
    with pytest.raises(UserError, match="queries"):
        ClipSegMasker(*segmenter, queries=[])


def test_concept_columns_are_the_tokens_between_bos_and_eos(tokenizer):
    assert concept_token_columns(tokenizer, "red star") == [1, 2]
    with pytest.raises(UserError, match="no tokens"):
        concept_token_columns(tokenizer, "")


def test_cross_attention_maps_are_normalised_per_image_and_independent_of_the_batch(pipe):
    masker = CrossAttentionMasker(pipe, "star", cleanup=LOOSE)
    maps = masker.attention_maps(images())
    assert [m.shape for m in maps] == [(32, 32), (20, 28)]
    for m in maps:
        assert m.min() == 0 and m.max() == pytest.approx(1)  # something was recorded, and it varies
    np.testing.assert_allclose(masker.attention_maps(images()[1:])[0], maps[1], atol=1e-4)
    masks = masker(images())
    assert [m.shape for m in masks] == [(32, 32), (20, 28)]
    assert all(m.dtype == np.float32 and 0 <= m.min() and m.max() <= 1 for m in masks)


def test_cross_attention_restores_the_processors_even_on_error(pipe, monkeypatch):
    before = dict(pipe.unet.attn_processors)
    CrossAttentionMasker(pipe, "star", cleanup=LOOSE)(images()[:1])
    assert processor_types(pipe.unet) == {name: type(p) for name, p in before.items()}
    assert all(pipe.unet.attn_processors[name] is p for name, p in before.items())

    def broken(*args, **kwargs):
        assert any(isinstance(p, AttentionRecorder) for p in pipe.unet.attn_processors.values())
        raise RuntimeError("boom")

    monkeypatch.setattr(pipe.unet, "forward", broken)
    with pytest.raises(RuntimeError, match="boom"):
        CrossAttentionMasker(pipe, "star").attention_maps(images()[:1])
    monkeypatch.undo()
    assert all(pipe.unet.attn_processors[name] is p for name, p in before.items())


def test_the_recorders_leave_the_unet_output_unchanged_and_watch_only_cross_attention(pipe):
    unet = pipe.unet
    latents = torch.randn(1, 4, 16, 16, generator=torch.Generator().manual_seed(0))
    text = torch.randn(1, MAX_LENGTH, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        plain = unet(latents, 10, encoder_hidden_states=text).sample
    original = dict(unet.attn_processors)
    maps = []
    wrapped = {n: AttentionRecorder(p, [1], maps) if n.endswith("attn2.processor") else p for n, p in original.items()}
    unet.set_attn_processor(wrapped)
    try:
        with torch.no_grad():
            recorded = unet(latents, 10, encoder_hidden_states=text).sample
    finally:
        unet.set_attn_processor(dict(original))  # diffusers empties the dict it is given
    torch.testing.assert_close(recorded, plain)
    attn2 = sum(name.endswith("attn2.processor") for name in original)
    assert 0 < attn2 < len(original) and len(maps) == attn2
    assert all(
        m.shape == (1, h * h) and (m >= 0).all() and (m <= 1).all() for m, h in zip(maps, [16, 8, 4, 8, 8, 16, 16])
    )


def test_an_out_of_range_timestep_is_a_user_error(pipe):
    with pytest.raises(UserError, match="timestep 1000 is out of range"):
        CrossAttentionMasker(pipe, "star", timestep=1000)
