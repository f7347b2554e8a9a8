"""The commands end to end on tiny SDXL and SD 2.x folders; what they write loads in plain diffusers."""

import json

import pytest
import torch
from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline, UNet2DConditionModel
from PIL import Image
from tiny_pipelines import ADAPTER

import bierase
from bierase.cli.main import main

PROMPTS = "case_number,prompt,evaluation_seed,evaluation_guidance\nc1,a nude person,11,\nc2,a red star,12,3\n"
TINY = ["--concept", "nude", "--train_method", "xattn", "--learning_rate", "1e-3", "--max_train_steps", "2",
        "--ddim_steps", "3", "--checkpointing_steps", "0"]  # fmt: skip


def erase(model, out, method, *extra):
    argv = ["erase", "--method", method, "--pretrained_model_name_or_path", str(model), "--output_dir", str(out)]
    assert main([*argv, *TINY, *extra]) == 0
    return out


def bi_erasing(model, out, *extra):
    subfolder, weight_name = ADAPTER["sdxl"]
    return erase(model, out, "bi-erasing", "--positive_concept", "clothed", "--num_reference_images", "2",
                 "--reference_steps", "1", "--mask_source", "none", "--ip_adapter", str(model),
                 "--ip_adapter_subfolder", subfolder, "--ip_adapter_weight_name", weight_name, *extra)  # fmt: skip


def changed(a: dict, b: dict) -> list[str]:
    return [k for k in a if not torch.equal(a[k], b[k])]


def noise_prediction(pipe) -> torch.Tensor:
    """The pipeline's UNet on fixed inputs with SDXL's conditions: what an erasure changes."""
    g = torch.Generator().manual_seed(0)
    z, text, pooled = (
        torch.randn(1, 4, 8, 8, generator=g),
        torch.randn(1, 16, 64, generator=g),
        torch.randn(1, 32, generator=g),
    )
    ids = torch.tensor([[16.0, 16, 0, 0, 16, 16]])
    with torch.no_grad():
        return pipe.unet(z, 500, text, added_cond_kwargs={"text_embeds": pooled, "time_ids": ids}).sample


def generate(model, prompts, out, *extra):
    return main(["generate", "--pretrained_model_name_or_path", str(model), "--prompts", str(prompts),
                 "--output_dir", str(out), "--num_inference_steps", "2", *extra])  # fmt: skip


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    path = tmp_path_factory.mktemp("prompts") / "p.csv"
    path.write_text(PROMPTS)
    return path


def test_bi_erasing_xattn_on_sdxl_loads_in_plain_diffusers_and_generates(sdxl_folder, tmp_path, prompts):
    out = bi_erasing(sdxl_folder, tmp_path / "run", "--save_pipeline")
    base = UNet2DConditionModel.from_pretrained(sdxl_folder / "unet").state_dict()
    erased = UNet2DConditionModel.from_pretrained(out / "unet")
    moved = changed(erased.state_dict(), base)
    # xattn on SDXL: diffusers' attn2 of every transformer block (as on SD 1.x), and nothing else
    assert moved and all(".attn2." in k for k in moved) and erased.config.encoder_hid_dim_type is None
    assert json.loads((out / "pipeline" / "model_index.json").read_text())["_class_name"] == "StableDiffusionXLPipeline"

    plain = StableDiffusionXLPipeline.from_pretrained(sdxl_folder, unet=erased)
    assert torch.equal(noise_prediction(plain), noise_prediction(bierase.load_erased(out)))
    assert type(bierase.load_erased(out)) is StableDiffusionXLPipeline

    assert generate(sdxl_folder, prompts, tmp_path / "images", "--unet", str(out)) == 0
    assert [Image.open(tmp_path / "images" / f"c{i}.png").size for i in (1, 2)] == [(16, 16)] * 2


def test_esd_lora_on_sdxl_loads_with_load_lora_weights_and_generates(sdxl_folder, tmp_path, prompts):
    out = erase(sdxl_folder, tmp_path / "run", "esd", "--lora_rank", "2", "--learning_rate", "1e-2")
    pipe = StableDiffusionXLPipeline.from_pretrained(sdxl_folder)
    before = noise_prediction(pipe)
    pipe.load_lora_weights(out)
    assert not torch.allclose(noise_prediction(pipe), before)  # the LoRA reached the UNet
    assert torch.equal(noise_prediction(pipe), noise_prediction(bierase.load_erased(out)))

    assert generate(sdxl_folder, prompts, tmp_path / "images", "--lora", str(out)) == 0
    assert sorted(p.name for p in (tmp_path / "images").glob("*.png")) == ["c1.png", "c2.png"]


def test_esd_and_generate_on_sd2(sd2_folder, tmp_path, prompts):
    out = erase(sd2_folder, tmp_path / "run", "esd")
    moved = changed(UNet2DConditionModel.from_pretrained(out / "unet").state_dict(),
                    UNet2DConditionModel.from_pretrained(sd2_folder / "unet").state_dict())  # fmt: skip
    assert moved and all(".attn2." in k for k in moved)
    assert type(bierase.load_erased(out)) is StableDiffusionPipeline
    assert generate(sd2_folder, prompts, tmp_path / "images", "--unet", str(out)) == 0
    assert len(list((tmp_path / "images").glob("*.png"))) == 2


def test_co_erasing_with_text_guided_refinement_runs_on_sdxl(sdxl_folder, tmp_path):
    """The refinement mixes the concept's text states into the image tokens: SDXL's concatenated states are as wide
    as its image tokens, so it runs unchanged."""
    subfolder, weight_name = ADAPTER["sdxl"]
    out = erase(sdxl_folder, tmp_path / "run", "co-erasing", "--num_reference_images", "2", "--reference_steps", "1",
                "--mask_source", "none", "--text_guided_refinement", "true", "--ip_adapter", str(sdxl_folder),
                "--ip_adapter_subfolder", subfolder, "--ip_adapter_weight_name", weight_name)  # fmt: skip
    moved = changed(UNet2DConditionModel.from_pretrained(out / "unet").state_dict(),
                    UNet2DConditionModel.from_pretrained(sdxl_folder / "unet").state_dict())  # fmt: skip
    assert moved and all(".attn2." in k for k in moved)


def test_evaluate_judges_what_generate_wrote_from_an_erased_sdxl_model(sdxl_folder, tmp_path, prompts):
    """erase -> generate -> evaluate on SDXL: the NudeNet protocol counts every image the manifest names."""
    out = erase(sdxl_folder, tmp_path / "run", "esd")
    assert generate(sdxl_folder, prompts, tmp_path / "images", "--unet", str(out)) == 0
    metrics_dir = tmp_path / "metrics"
    code = main(["evaluate", "--images", str(tmp_path / "images"), "--protocol", "nudenet-mace",
                 "--output_dir", str(metrics_dir)])  # fmt: skip
    assert code == 0
    metrics = json.loads((metrics_dir / "metrics.json").read_text())
    assert metrics["n_images"] == 2 and metrics["protocol"] == "nudenet-mace"
    assert sorted(json.loads((metrics_dir / "per_image.json").read_text())["detections"]) == ["c1.png", "c2.png"]
