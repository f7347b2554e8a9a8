"""UCE: the closed-form edit against its objective and by hand, the config, and a run on the smoke-built toy world."""

import json

import pytest
import torch
from diffusers import StableDiffusionPipeline, UNet2DConditionModel
from safetensors.torch import load_file

from bierase.errors import UserError
from bierase.methods.uce import UCEConfig
from bierase.methods.uce.edit import closed_form_edit
from bierase.methods.uce.method import cross_attention_projections, erase, token_pairs, word_count

# --- the pure edit --------------------------------------------------------------------------------


def objective(W, W_old, C, V, P, erase_scale, preserve_scale):
    """UCE's objective, written independently of the closed form."""
    return (
        erase_scale * ((C @ W.T - V) ** 2).sum()
        + preserve_scale * ((P @ W.T - P @ W_old.T) ** 2).sum()
        + ((W - W_old) ** 2).sum()
    )


def random_problem(seed, out=6, d=5, n=3, m=4):
    g = torch.Generator().manual_seed(seed)
    draw = lambda *shape: torch.randn(*shape, generator=g, dtype=torch.float64)  # noqa: E731
    return draw(out, d), draw(n, d), draw(n, out), draw(m, d)


def test_hand_computed_one_by_one_cases():
    one = lambda x: torch.tensor([[float(x)]], dtype=torch.float64)  # noqa: E731
    # W=2, c=1, v*=0, no preserve term: (0 + 2) / (1 + 1)
    assert closed_form_edit(one(2), one(1), one(0), None, 1.0, 0.0).item() == pytest.approx(1.0)
    # erase_scale weighs both sides: (3*0 + 2) / (3*1 + 1)
    assert closed_form_edit(one(2), one(1), one(0), None, 3.0, 0.0).item() == pytest.approx(0.5)
    # preserve c_j=1 at lambda=1: (0 + 1*2*1 + 2) / (1 + 1 + 1)
    assert closed_form_edit(one(2), one(1), one(0), one(1), 1.0, 1.0).item() == pytest.approx(4 / 3)
    # a target of its own: W=2, c=2, v*=1: (1*2 + 2) / (4 + 1)
    assert closed_form_edit(one(2), one(2), one(1), None, 1.0, 0.0).item() == pytest.approx(0.8)


@pytest.mark.parametrize("erase_scale,preserve_scale", [(1.0, 1.0), (2.5, 0.3), (0.7, 0.0), (1.0, 10.0)])
def test_result_is_the_minimiser_of_the_uce_objective(erase_scale, preserve_scale):
    W_old, C, V, P = random_problem(0)
    W_new = closed_form_edit(W_old, C, V, P, erase_scale, preserve_scale).requires_grad_(True)
    loss = objective(W_new, W_old, C, V, P, erase_scale, preserve_scale)
    (grad,) = torch.autograd.grad(loss, W_new)
    assert grad.abs().max() < 1e-9  # normal equations hold; the objective is strictly convex
    W_new = W_new.detach()
    for seed in range(3):  # and any other W does worse
        other = W_new + 1e-3 * torch.randn(
            W_new.shape, generator=torch.Generator().manual_seed(seed), dtype=W_new.dtype
        )
        assert objective(other, W_old, C, V, P, erase_scale, preserve_scale) > loss.detach()


def test_a_large_erase_scale_maps_the_erase_inputs_to_their_targets():
    W_old, C, V, _ = random_problem(1, n=2)
    W_new = closed_form_edit(W_old, C, V, None, erase_scale=1e8, preserve_scale=0.0)
    assert torch.allclose(C @ W_new.T, V, atol=1e-6)
    assert not torch.allclose(C @ W_old.T, V, atol=1e-1)


def test_a_large_preserve_scale_keeps_the_preserved_outputs():
    W_old, C, V, P = random_problem(2, n=2, m=2)
    W_new = closed_form_edit(W_old, C, V, P, erase_scale=1.0, preserve_scale=1e8)
    assert torch.allclose(P @ W_new.T, P @ W_old.T, atol=1e-6)
    # with no preserve term the same edit moves them
    free = closed_form_edit(W_old, C, V, None, erase_scale=1.0, preserve_scale=0.0)
    assert not torch.allclose(P @ free.T, P @ W_old.T, atol=1e-2)


def test_the_edit_keeps_dtype_and_leaves_its_input_alone():
    W_old, C, V, P = random_problem(3)
    W32 = W_old.float()
    before = W32.clone()
    W_new = closed_form_edit(W32, C.float(), V.float(), P.float())
    assert W_new.dtype == torch.float32 and W_new.shape == W32.shape
    assert torch.equal(W32, before)
    # computed in float64: equal to the float64 result rounded once
    assert torch.equal(
        W_new, closed_form_edit(W32.double(), C.float().double(), V.float().double(), P.float().double()).float()
    )
    with pytest.raises(ValueError, match="erase_targets"):
        closed_form_edit(W_old, C, V[:, :2], P)


def test_vectors_are_paired_at_eos():
    # concept of 2 words, the empty guide: both words -> BOS, EOS -> EOS, padding -> padding
    assert token_pairs(2, 0, 8, "all") == [(1, 0), (2, 0), (3, 1), (4, 2), (5, 3), (6, 4), (7, 5)]
    assert token_pairs(2, 0, 8, "words_eos") == [(1, 0), (2, 0), (3, 1)]
    # a longer guide: aligned at EOS, pairs pushed past the end dropped
    assert token_pairs(1, 3, 8, "all") == [(1, 3), (2, 4), (3, 5), (4, 6), (5, 7)]
    assert token_pairs(2, 2, 8, "words_eos") == [(1, 1), (2, 2), (3, 3)]


# --- the config -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad,message", [
    (dict(erase_scale=-1.0), "--erase_scale .* >= 0"),
    (dict(preserve_scale=-0.1), "--preserve_scale .* >= 0"),
    (dict(preserve_scale=float("nan")), "--preserve_scale"),
    (dict(erase_scale=0.0), "nothing would be erased"),
    (dict(tokens="eos"), "all, words_eos"),
    (dict(concept="a, b, c", positive_concept="x, y"), "one guide for all or one per concept"),
    (dict(concept="nude, naked", preserve_concepts=["naked"]), "both erased and preserved"),
    (dict(preserve_concepts="red"), "must be a list"),
    (dict(preserve_concepts=[3]), "must be a string"),
    (dict(seed=2**64), "--seed .* <= 4294967295"),
])  # fmt: skip
def test_invalid_values_name_the_fix(bad, message):
    with pytest.raises(UserError, match=message):
        UCEConfig(**bad)


def test_concepts_and_guides_and_yaml_round_trip(tmp_path):
    cfg = UCEConfig(concept="nude, naked ,", positive_concept="clothed", preserve_concepts=["red"], output_dir="o")
    assert cfg.concepts() == ["nude", "naked"] and cfg.guides() == ["clothed", "clothed"]
    assert UCEConfig(concept="a, b", positive_concept="x, y").guides() == ["x", "y"]
    assert UCEConfig(concept="a, b").guides() == ["", ""]
    cfg.save_yaml(tmp_path / "c.yaml")
    assert UCEConfig.from_yaml(tmp_path / "c.yaml") == cfg
    assert UCEConfig.from_yaml(tmp_path / "c.yaml", erase_scale=2.0).erase_scale == 2.0
    (tmp_path / "bad.yaml").write_text("learning_rate: 1\n")
    with pytest.raises(UserError, match="unknown options learning_rate"):
        UCEConfig.from_yaml(tmp_path / "bad.yaml")
    with pytest.raises(UserError, match="--concept is required"):
        UCEConfig(pretrained_model_name_or_path="m", output_dir="o").require_run_fields()


def test_the_registry_finds_uce():
    from bierase.methods.registry import config_class

    assert config_class("uce") is UCEConfig


# --- a run on the toy world -----------------------------------------------------------------------

CONCEPT, PRESERVED = "nude", "red"


def run_config(world, out, **kw):
    base = dict(
        pretrained_model_name_or_path=str(world), concept=CONCEPT, preserve_concepts=[PRESERVED], output_dir=str(out)
    )
    return UCEConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def uce_run(smoke_world, tmp_path_factory):
    out = tmp_path_factory.mktemp("uce") / "run"
    return erase(run_config(smoke_world, out, save_pipeline=True))


def test_only_cross_attention_keys_and_values_change(smoke_world, uce_run):
    base = load_file(smoke_world / "unet" / "diffusion_pytorch_model.safetensors")
    edited = load_file(uce_run / "unet" / "diffusion_pytorch_model.safetensors")
    assert set(base) == set(edited)
    changed = {k for k in base if not torch.equal(base[k], edited[k])}
    expected = {k for k in base if ".attn2.to_k.weight" in k or ".attn2.to_v.weight" in k}
    assert expected and changed == expected
    assert all(edited[k].dtype == base[k].dtype for k in base)
    run = json.loads((uce_run / "bierase.json").read_text())
    assert run["method"] == "uce" and run["concept"] == [CONCEPT] and run["base_model"] == str(smoke_world)
    assert set(run["edited_parameters"]) == expected
    assert UCEConfig.from_yaml(uce_run / "config.yaml") == run_config(smoke_world, uce_run, save_pipeline=True)


def test_edited_unet_loads_into_a_plain_pipeline(smoke_world, uce_run):
    unet = UNet2DConditionModel.from_pretrained(uce_run / "unet")
    pipe = StableDiffusionPipeline.from_pretrained(
        smoke_world, unet=unet, safety_checker=None, requires_safety_checker=False
    )
    pipe.set_progress_bar_config(disable=True)
    image = pipe(CONCEPT, num_inference_steps=2, output_type="np", generator=torch.Generator().manual_seed(0)).images
    assert image.shape[0] == 1 and torch.isfinite(torch.from_numpy(image)).all()
    saved = StableDiffusionPipeline.from_pretrained(uce_run / "pipeline").unet.state_dict()
    assert all(torch.equal(v, saved[k]) for k, v in unet.state_dict().items())


def test_erased_keys_move_to_the_guide_and_preserved_keys_stay(smoke_world, uce_run):
    pipe = StableDiffusionPipeline.from_pretrained(smoke_world, safety_checker=None, requires_safety_checker=False)
    edited = UNet2DConditionModel.from_pretrained(uce_run / "unet")

    def states(prompt):
        with torch.no_grad():
            return pipe.encode_prompt(prompt, "cpu", 1, False)[0][0].double()

    concept, guide, kept = states(CONCEPT), states(""), states(PRESERVED)
    length = concept.shape[0]
    n = word_count(pipe.tokenizer, CONCEPT, length)
    eos = n + 1
    pairs = token_pairs(n, 0, length)
    src, dst = [p for p, _ in pairs], [q for _, q in pairs]
    old_layers, new_layers = cross_attention_projections(pipe.unet), cross_attention_projections(edited)
    assert old_layers.keys() == new_layers.keys()
    for name in old_layers:
        if ".to_k." not in name:
            continue
        W_old, W_new = old_layers[name].weight.double(), new_layers[name].weight.double()
        guide_keys = guide @ W_old.T  # the guide's keys before the edit: what UCE maps the concept to
        # at the concept's EOS (paired with the guide's EOS, position 1) and over all paired positions
        eos_before = (concept[eos] @ W_old.T - guide_keys[1]).norm()
        eos_after = (concept[eos] @ W_new.T - guide_keys[1]).norm()
        assert eos_after < 0.5 * eos_before, name
        paired_before = (concept[src] @ W_old.T - guide_keys[dst]).norm()
        paired_after = (concept[src] @ W_new.T - guide_keys[dst]).norm()
        assert paired_after < 0.5 * paired_before, name
        # the preserved prompt's keys move much less than the erased ones
        moved_kept = (kept @ W_new.T - kept @ W_old.T).norm()
        moved_erased = (concept[src] @ W_new.T - concept[src] @ W_old.T).norm()
        assert moved_kept < 0.5 * moved_erased, name


def test_a_folder_with_another_run_is_refused_and_kept(smoke_world, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="--overwrite"):
        erase(run_config(smoke_world, tmp_path))
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "unet").exists()
    out = erase(run_config(smoke_world, tmp_path, overwrite=True))
    assert (out / "unet" / "config.json").is_file() and (out / "notes.txt").read_text() == "mine"


def test_missing_model_folder_is_named(tmp_path):
    with pytest.raises(UserError, match="no-such-model does not exist"):
        erase(run_config(tmp_path / "no-such-model", tmp_path / "o"))
    assert not (tmp_path / "o").exists()  # checked before the output folder is made
