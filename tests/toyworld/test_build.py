"""The recipe builds a folder the real ecosystem loads, through public APIs only."""

import json

import numpy as np
import pytest
import torch
from diffusers import StableDiffusionPipeline
from safetensors.torch import load_file
from transformers import CLIPSegForImageSegmentation, CLIPSegProcessor

from bierase.errors import UserError
from bierase.toyworld.build import BuildConfig, build
from bierase.toyworld.judge import Judge
from bierase.toyworld.vocabulary import GENERIC_SUBJECT, IMPLICIT_TRIGGERS, NAME_APPEARANCES, NAMES, SCENARIOS


def test_plain_diffusers_loads_and_runs_the_pipeline(smoke_world):
    pipe = StableDiffusionPipeline.from_pretrained(smoke_world, local_files_only=True)
    out = pipe("a red star", num_inference_steps=2, output_type="np", generator=torch.Generator().manual_seed(0))
    assert out.images.shape == (1, 32, 32, 3)
    assert pipe.image_encoder is not None and pipe.feature_extractor is not None


def test_ip_adapter_loads_with_load_ip_adapter_and_changes_the_output(smoke_world):
    pipe = StableDiffusionPipeline.from_pretrained(smoke_world, local_files_only=True)
    pipe.load_ip_adapter(smoke_world, subfolder="", weight_name="ip_adapter.safetensors", local_files_only=True)
    ref = np.zeros((32, 32, 3), dtype=np.uint8)
    ref[8:24, 8:24] = (215, 35, 35)
    kwargs = dict(num_inference_steps=2, output_type="np", ip_adapter_image=ref)
    pipe.set_ip_adapter_scale(1.0)
    with_image = pipe("", generator=torch.Generator().manual_seed(0), **kwargs).images
    pipe.set_ip_adapter_scale(0.0)
    without = pipe("", generator=torch.Generator().manual_seed(0), **kwargs).images
    assert not np.allclose(with_image, without)


def test_the_toy_clip_is_the_one_the_pipeline_encoders_came_from(smoke_world):
    from transformers import CLIPModel, CLIPProcessor

    clip = CLIPModel.from_pretrained(smoke_world / "clip")
    processor = CLIPProcessor.from_pretrained(smoke_world / "clip")
    pipe = StableDiffusionPipeline.from_pretrained(smoke_world, local_files_only=True)
    whole = clip.state_dict()
    for name, tensor in pipe.text_encoder.state_dict().items():
        assert torch.equal(tensor, whole[name if name.startswith("text_model.") else f"text_model.{name}"]), name
    for name, tensor in pipe.image_encoder.state_dict().items():
        assert torch.equal(tensor, whole[name]), name
    inputs = processor(text=["a red star"], images=[np.zeros((32, 32, 3), np.uint8)], return_tensors="pt")
    assert clip(**inputs).text_embeds.shape == (1, clip.config.projection_dim)


def test_saved_ip_adapter_is_what_was_trained(smoke_world):
    """The file's keys are the IP-Adapter layout: image_proj.* and ip_adapter.N.to_{k,v}_ip.weight."""
    weights = load_file(smoke_world / "ip_adapter.safetensors")
    assert {k for k in weights if k.startswith("image_proj.")} == {
        "image_proj.proj.weight",
        "image_proj.proj.bias",
        "image_proj.norm.weight",
        "image_proj.norm.bias",
    }
    ip_keys = sorted(int(k.split(".")[1]) for k in weights if k.endswith("to_k_ip.weight"))
    assert ip_keys == list(range(1, 2 * len(ip_keys), 2))
    base = json.loads((smoke_world / "unet" / "config.json").read_text())
    assert base.get("encoder_hid_dim_type") is None  # the saved UNet stays a plain SD UNet


def test_segmenter_and_judge_load_from_their_folders(smoke_world):
    model = CLIPSegForImageSegmentation.from_pretrained(smoke_world / "segmenter")
    processor = CLIPSegProcessor.from_pretrained(smoke_world / "segmenter")
    inputs = processor(
        text=["star", "red"], images=[np.zeros((32, 32, 3), np.uint8)] * 2, padding="max_length", return_tensors="pt"
    )
    assert model(**inputs).logits.shape[-2:] == (32, 32)
    judge = Judge.from_pretrained(smoke_world / "judge")
    assert set(judge.predict(np.zeros((2, 32, 32, 3), np.uint8))) == {"shape", "colour", "pattern", "background"}


def test_model_card_lists_vocabulary_scenarios_and_figures(smoke_world):
    card = (smoke_world / "README.md").read_text()
    for word in ["crimson", "checkered", GENERIC_SUBJECT, *IMPLICIT_TRIGGERS, *SCENARIOS, *NAMES]:
        assert word in card
    assert "## Measured quality" in card and "toyworld-quality/v3" in card and "named prompt shows" in card
    first = NAME_APPEARANCES[NAMES[0]]
    assert f"| {NAMES[0]} | {first.shape} | {first.colour} | {first.pattern} |" in card
    info = json.loads((smoke_world / "build.json").read_text())
    assert info["versions"]["diffusers"] and set(info["quality"]) >= {"colour", "ip_transfer", "judge", "identity"}
    assert info["quality"]["identity_samples"] >= len(NAMES) and info["config"]["name_rate"] > 0


def test_remeasure_rewrites_the_figures_and_keeps_the_recipe(smoke_world, tmp_path):
    import shutil

    from bierase.toyworld.build import remeasure

    world = tmp_path / "world"
    shutil.copytree(smoke_world, world)
    before = json.loads((world / "build.json").read_text())
    stale = {**before, "quality": {**before["quality"], "ip_transfer": -1.0}}
    (world / "build.json").write_text(json.dumps(stale))
    quality = remeasure(world)
    after = json.loads((world / "build.json").read_text())
    assert after["quality"] == quality and 0 <= quality["ip_transfer"] <= 1
    assert after["config"] == before["config"]
    assert {k: v for k, v in after["timings_s"].items() if k != "quality"} == {
        k: v for k, v in before["timings_s"].items() if k != "quality"
    }
    (world / "build.json").unlink()
    with pytest.raises(UserError, match="build.json"):
        remeasure(world)


def test_refuses_a_non_empty_output_folder_and_keeps_its_files(tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        build(tmp_path, BuildConfig.smoke())
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_out_of_range_options_fail_before_training():
    with pytest.raises(UserError, match="unet_steps=0"):
        BuildConfig(unet_steps=0)
    with pytest.raises(UserError, match="name_rate=1"):
        BuildConfig(name_rate=1.0)
