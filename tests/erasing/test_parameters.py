import pytest
from diffusers import UNet2DConditionModel

from bierase.erasing.parameters import is_selected, lora_target_modules, select_parameters
from bierase.errors import UserError


@pytest.fixture(scope="module")
def unet():
    return UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, block_out_channels=(16, 32), layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=16, attention_head_dim=2, norm_num_groups=8,
    )  # fmt: skip


def names(unet, method):
    return {n for n, p in select_parameters(unet, method).items()}


def test_sets_partition_as_named(unet):
    xattn, selfattn, noxattn, full = (names(unet, m) for m in ("xattn", "selfattn", "noxattn", "full"))
    assert xattn and all("attn2." in n for n in xattn)
    assert selfattn and all("attn1." in n for n in selfattn)
    assert not noxattn & xattn and selfattn <= noxattn
    # the reference code's defect: CompVis names on a diffusers UNet also trained these
    assert not any(n.startswith(("conv_out.", "time_embedding.", "conv_norm_out.")) for n in noxattn)
    assert full == {n for n, _ in unet.named_parameters()}


def test_only_the_selection_requires_grad(unet):
    chosen = select_parameters(unet, "xattn")
    assert {n for n, p in unet.named_parameters() if p.requires_grad} == set(chosen)


def test_the_image_branch_never_trains():
    assert not is_selected("down_blocks.0.attentions.0.transformer_blocks.0.attn2.processor.to_k_ip.0.weight", "full")
    assert not is_selected("encoder_hid_proj.image_projection_layers.0.image_embeds.weight", "full")


def test_unknown_method_names_the_choices(unet):
    with pytest.raises(UserError, match="full, xattn, noxattn, selfattn"):
        select_parameters(unet, "everything")
    with pytest.raises(UserError, match="choose one of"):
        lora_target_modules("everything")
