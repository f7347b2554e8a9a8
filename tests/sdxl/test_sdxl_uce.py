"""UCE on SDXL: the closed form on both encoders' concatenated text states, end to end on the tiny SDXL folder."""

import json

import pytest
import torch
from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
from safetensors.torch import load_file

from bierase.cli.main import main
from bierase.methods.uce.method import cross_attention_projections, token_pairs, word_count

CONCEPT, PRESERVED = "nude", "red star"


@pytest.fixture(scope="module")
def uce_run(sdxl_folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("uce") / "run"
    argv = ["erase", "--method", "uce", "--pretrained_model_name_or_path", str(sdxl_folder), "--concept", CONCEPT,
            "--preserve_concepts", PRESERVED, "--output_dir", str(out)]  # fmt: skip
    assert main(argv) == 0
    return out


def test_only_cross_attention_keys_and_values_change_and_plain_diffusers_loads_it(sdxl_folder, uce_run):
    base = load_file(sdxl_folder / "unet" / "diffusion_pytorch_model.safetensors")
    edited = load_file(uce_run / "unet" / "diffusion_pytorch_model.safetensors")
    changed = {k for k in base if not torch.equal(base[k], edited[k])}
    expected = {k for k in base if ".attn2.to_k.weight" in k or ".attn2.to_v.weight" in k}
    assert expected and changed == expected and set(base) == set(edited)
    assert set(json.loads((uce_run / "bierase.json").read_text())["edited_parameters"]) == expected

    unet = UNet2DConditionModel.from_pretrained(uce_run / "unet")
    pipe = StableDiffusionXLPipeline.from_pretrained(sdxl_folder, unet=unet)
    pipe.set_progress_bar_config(disable=True)
    image = pipe(CONCEPT, num_inference_steps=2, output_type="np", generator=torch.Generator().manual_seed(0)).images
    assert image.shape == (1, 16, 16, 3) and torch.isfinite(torch.from_numpy(image)).all()


def test_the_concepts_keys_move_to_the_empty_guides_on_the_concatenated_states(sdxl_folder, uce_run):
    """What the edited keys read is SDXL's 64-wide concatenation of both encoders' states: the concept's keys come
    close to the guide's (the encoded "") and a preserved prompt's keys barely move. The unedited UNet is the
    control: its keys of the concept are far from the guide's."""
    pipe = StableDiffusionXLPipeline.from_pretrained(sdxl_folder)
    edited = UNet2DConditionModel.from_pretrained(uce_run / "unet")

    def states(prompt):
        with torch.no_grad():
            return pipe.encode_prompt(prompt, do_classifier_free_guidance=False)[0][0].double()

    concept, guide, kept = states(CONCEPT), states(""), states(PRESERVED)
    assert concept.shape[-1] == pipe.unet.config.cross_attention_dim == 64  # both encoders, 32 each
    assert guide.abs().sum() > 0  # the encoded "", not SDXL's zeros for an absent negative prompt
    n = word_count(pipe.tokenizer, CONCEPT, concept.shape[0])
    pairs = token_pairs(n, 0, concept.shape[0])
    src, dst = [p for p, _ in pairs], [q for _, q in pairs]
    old, new = cross_attention_projections(pipe.unet), cross_attention_projections(edited)
    keys = [name for name in old if ".to_k." in name]
    assert len(keys) == 4  # every attn2 of the tiny UNet: its down, mid and two up transformer blocks
    for name in keys:
        W_old, W_new = old[name].weight.double(), new[name].weight.double()
        target = guide[dst] @ W_old.T
        before, after = (concept[src] @ W_old.T - target).norm(), (concept[src] @ W_new.T - target).norm()
        assert after < 0.5 * before, name
        moved_kept = (kept @ W_new.T - kept @ W_old.T).norm()
        moved_erased = (concept[src] @ W_new.T - concept[src] @ W_old.T).norm()
        assert moved_kept < 0.5 * moved_erased, name
