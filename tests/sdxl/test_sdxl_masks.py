"""Cross-attention masks on SDXL: the UNet's call carries the pooled embedding and time ids, the masks come out at
each image's size and follow the concept word, and an erasure that makes them runs end to end."""

import numpy as np
import pytest
import torch
from PIL import Image
from test_sdxl_commands import bi_erasing

from bierase.erasing.model_loading import load_base_pipeline
from bierase.masks.cross_attention import CrossAttentionMasker
from bierase.masks.sources import CleanupConfig

LOOSE = CleanupConfig(threshold=0.5, radius=0, sigma=0.5)


@pytest.fixture(scope="module")
def pipe(sdxl_folder):
    return load_base_pipeline(str(sdxl_folder), torch.device("cpu"))


def images():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8), rng.integers(0, 256, (20, 28, 3), dtype=np.uint8)]


def test_the_unet_gets_the_concepts_pooled_embedding_and_the_encoding_sizes_time_ids(pipe, monkeypatch):
    seen = {}
    forward = pipe.unet.forward

    def spy(*args, **kwargs):
        seen.update(kwargs.get("added_cond_kwargs") or {})
        return forward(*args, **kwargs)

    monkeypatch.setattr(pipe.unet, "forward", spy)
    CrossAttentionMasker(pipe, "nude", cleanup=LOOSE).attention_maps(images())
    _, _, pooled, _ = pipe.encode_prompt("nude", do_classifier_free_guidance=False)
    # the images are encoded at the UNet's sample_size (8 latents = 16 px): original = target size, crop (0, 0)
    assert torch.equal(seen["time_ids"], torch.tensor([[16.0, 16, 0, 0, 16, 16]]).expand(2, -1))
    assert torch.equal(seen["text_embeds"], pooled.expand(2, -1))


def test_masks_are_at_each_images_size_and_follow_the_concept_word(pipe):
    masker = CrossAttentionMasker(pipe, "nude", cleanup=LOOSE)
    maps = masker.attention_maps(images())
    assert [m.shape for m in maps] == [(32, 32), (20, 28)]
    assert all(m.min() == 0 and m.max() == pytest.approx(1) for m in maps)  # something was recorded, and it varies
    np.testing.assert_allclose(masker.attention_maps(images()[1:])[0], maps[1], atol=1e-4)  # batch-independent
    masks = masker(images())
    assert [m.shape for m in masks] == [(32, 32), (20, 28)]
    assert all(m.dtype == np.float32 and 0 <= m.min() and m.max() <= 1 for m in masks)
    # another word draws the attention elsewhere; the same word again is the control
    other = CrossAttentionMasker(pipe, "cat", cleanup=LOOSE).attention_maps(images())
    assert all(np.abs(a - b).max() > 1e-2 for a, b in zip(maps, other))
    again = CrossAttentionMasker(pipe, "nude", cleanup=LOOSE).attention_maps(images())
    assert all(np.allclose(a, b) for a, b in zip(maps, again))


def test_bi_erasing_with_cross_attention_masks_runs_on_sdxl(sdxl_folder, tmp_path):
    out = bi_erasing(sdxl_folder, tmp_path / "run", "--mask_source", "cross_attention")
    masks = sorted((out / "references").glob("*_masks/*"))
    assert masks and (out / "unet").is_dir()
    assert Image.open(masks[0]).size == (16, 16)  # the references' size: the UNet's sample_size in pixels
