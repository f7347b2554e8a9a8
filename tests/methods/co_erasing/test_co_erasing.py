"""Co-Erasing: its objective, its text-guided refinement (the formula, the hook on a real IP-Adapter UNet), a run."""

import json
import math

import pytest
import torch
from diffusers import StableDiffusionPipeline
from safetensors.torch import load_file

from bierase.methods.co_erasing.refinement import attach_refinement, refine


def test_refine_is_attention_from_image_tokens_over_text_tokens():
    g = torch.Generator().manual_seed(0)
    tokens, text = torch.randn(2, 1, 4, 8, generator=g), torch.randn(1, 5, 8, generator=g)
    refined = refine(tokens, text)
    for b in range(2):
        for i in range(4):
            weights = [math.exp(float(tokens[b, 0, i] @ text[0, j]) / math.sqrt(8)) for j in range(5)]
            expected = sum(w * text[0, j] for j, w in enumerate(weights)) / sum(weights)
            assert torch.allclose(refined[b, 0, i], expected, atol=1e-5)


def test_the_hook_replaces_the_image_tokens_of_a_real_ip_adapter_unet(smoke_world):
    pipe = StableDiffusionPipeline.from_pretrained(smoke_world, safety_checker=None)
    pipe.load_ip_adapter(str(smoke_world), subfolder="", weight_name="ip_adapter.safetensors")
    unet = pipe.unet
    embeds = torch.randn(2, 1, pipe.image_encoder.config.projection_dim)
    text = pipe.encode_prompt("nude", "cpu", 1, False)[0]
    plain = unet.encoder_hid_proj([embeds])[0]
    handle = attach_refinement(unet, text)
    refined = unet.encoder_hid_proj([embeds])[0]
    handle.remove()
    assert torch.allclose(refined, refine(plain, text), atol=1e-6)
    assert not torch.allclose(refined, plain)
    assert torch.allclose(unet.encoder_hid_proj([embeds])[0], plain)  # removed: the UNet is as before


def test_co_erasing_with_refinement_trains_on_other_image_tokens(smoke_world, tmp_path):
    from bierase.methods.registry import config_class, run_method

    def run(name, **kw):
        cfg = config_class("co-erasing")(
            pretrained_model_name_or_path=str(smoke_world), concept="nude", output_dir=str(tmp_path / name),
            num_reference_images=2, reference_steps=1, max_train_steps=2, ddim_steps=2, checkpointing_steps=0,
            mask_source="none", learning_rate=1e-3, **kw,
        )  # fmt: skip
        out = run_method("co-erasing", cfg)
        return load_file(out / "unet" / "diffusion_pytorch_model.safetensors"), out

    plain, _ = run("plain")
    refined, out = run("refined", text_guided_refinement=True)
    assert json.loads((out / "bierase.json").read_text())["config"]["text_guided_refinement"] is True
    assert any(not torch.allclose(plain[k], refined[k]) for k in plain)


def test_the_objective_is_esds_equation_on_the_negative_images():
    from bierase.erasing.objective import Condition
    from bierase.methods.co_erasing import CoErasingConfig
    from bierase.methods.co_erasing.objective import objective

    (term,) = objective(CoErasingConfig(eta_neg=1.0))
    assert term.teacher == (Condition("empty", "negative"), Condition("concept", "negative"))
    assert term.student == (Condition("concept", "negative"),)
    teacher = torch.tensor([[1.0, 1.0], [2.0, 0.0]])  # target 1 - (2 - 1), 1 - (0 - 1) = [0, 2]
    assert term.loss(torch.tensor([[0.0, 0.0]]), teacher, step=0).total.item() == pytest.approx(2.0)
    assert not hasattr(CoErasingConfig(), "lambda_pos")  # one branch: nothing to weigh it against
