"""Tiny SDXL and SD 2.x pipelines built from config with random weights, saved as diffusers folders.

The shapes follow diffusers' own tiny SDXL tests (``addition_embed_type="text_time"``, two text
encoders whose hidden sizes add up to the cross-attention width, the second one with a projection for
the pooled embedding). The tokenizers are the toy world's BPE tokenizer on a handful of words, so that
nothing comes from a hub. The IP-Adapter is written the way h94/IP-Adapter ships its SDXL one: flattened
``image_proj.``/``ip_adapter.`` keys in a safetensors file, with ``image_encoder/`` beside it.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import torch

WORDS = ["a", "photo", "of", "nude", "clothed", "person", "red", "star", "cat", "dog", "blue"]
TEXT_WIDTH = 32  # each text encoder's hidden size; SDXL's UNet sees both, concatenated
TIME_EMBED = 8  # addition_time_embed_dim: each of the six time ids is embedded to this width
SD2_TEXT_WIDTH = 48  # SD 2.x: one, wider text encoder (1024 vs 768); unlike the SDXL width here, to tell adapters apart
SD15_WIDTH = 32  # an SD 1.5 IP-Adapter's cross-attention width, for the mismatch checks
# where each kind's adapter lies in its folder, as in h94/IP-Adapter
ADAPTER = {"sdxl": ("sdxl_models", "ip-adapter_sdxl.safetensors"), "sd2": ("models", "ip-adapter_sd2.safetensors")}


def tokenizer():
    from bierase.toyworld.tokenizer import build_tokenizer

    return build_tokenizer(WORDS)


def text_config(tok, width: int = TEXT_WIDTH):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        vocab_size=len(tok), hidden_size=width, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
        max_position_embeddings=tok.model_max_length, projection_dim=TEXT_WIDTH, hidden_act="gelu",
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )  # fmt: skip


def vae():
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    return AutoencoderKL(
        block_out_channels=[32, 32], in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=32,
        down_block_types=["DownEncoderBlock2D"] * 2, up_block_types=["UpDecoderBlock2D"] * 2, sample_size=16,
    )  # fmt: skip


def unet(cross_attention_dim: int, sdxl: bool):
    """Two levels, one attention level: 8x8 latents (16x16 images), a few thousand parameters per block."""
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    extra = (
        dict(
            addition_embed_type="text_time",
            addition_time_embed_dim=TIME_EMBED,
            projection_class_embeddings_input_dim=6 * TIME_EMBED + TEXT_WIDTH,
        )  # fmt: skip
        if sdxl
        else {}
    )
    return UNet2DConditionModel(
        block_out_channels=(32, 64), layers_per_block=1, sample_size=8, in_channels=4, out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4), use_linear_projection=True, cross_attention_dim=cross_attention_dim,
        norm_num_groups=32, **extra,
    )  # fmt: skip


def build_sdxl(folder: Path) -> Path:
    from diffusers import EulerDiscreteScheduler, StableDiffusionXLPipeline
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    tok = tokenizer()
    torch.manual_seed(1)
    text_encoder = CLIPTextModel(text_config(tok))
    torch.manual_seed(2)
    text_encoder_2 = CLIPTextModelWithProjection(text_config(tok))
    scheduler = EulerDiscreteScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1, timestep_spacing="leading"
    )
    pipe = StableDiffusionXLPipeline(
        vae=vae(), text_encoder=text_encoder, text_encoder_2=text_encoder_2, tokenizer=tok, tokenizer_2=tok,
        unet=unet(2 * TEXT_WIDTH, sdxl=True), scheduler=scheduler, add_watermarker=False,
    )  # fmt: skip
    pipe.save_pretrained(folder)
    save_ip_adapter(pipe.unet, folder.joinpath(*ADAPTER["sdxl"]))
    return folder


def build_sd2(folder: Path) -> Path:
    """SD 2.x's differences from 1.x that matter here: v-prediction and a wider text encoder."""
    from diffusers import DDIMScheduler, StableDiffusionPipeline
    from transformers import CLIPTextModel

    tok = tokenizer()
    torch.manual_seed(1)
    text_encoder = CLIPTextModel(text_config(tok, SD2_TEXT_WIDTH))
    scheduler = DDIMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", steps_offset=1, clip_sample=False,
        set_alpha_to_one=False, prediction_type="v_prediction", timestep_spacing="leading",
    )  # fmt: skip
    pipe = StableDiffusionPipeline(
        vae=vae(), text_encoder=text_encoder, tokenizer=tok, unet=unet(SD2_TEXT_WIDTH, sdxl=False),
        scheduler=scheduler, safety_checker=None, feature_extractor=None, requires_safety_checker=False,
    )  # fmt: skip
    pipe.save_pretrained(folder)
    save_ip_adapter(pipe.unet, folder.joinpath(*ADAPTER["sd2"]))
    return folder


def save_ip_adapter(unet, file: Path, cross_attention_dim: int | None = None) -> Path:
    """Random IP-Adapter weights for ``unet`` in the original key layout, and ``image_encoder/`` beside them.

    ``cross_attention_dim`` other than the UNet's makes an adapter for another model (SD 1.5's for SDXL).
    """
    from safetensors.torch import save_file
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    from bierase.toyworld.train.ip_adapter import initial_state_dict

    torch.manual_seed(3)
    encoder = CLIPVisionModelWithProjection(
        CLIPVisionConfig(
            hidden_size=32,
            intermediate_size=37,
            num_hidden_layers=2,
            num_attention_heads=4,
            image_size=32,
            patch_size=8,
            projection_dim=32,
        )  # fmt: skip
    )
    encoder.save_pretrained(file.parent / "image_encoder")
    width = cross_attention_dim or unet.config.cross_attention_dim
    if width != unet.config.cross_attention_dim:  # only the shapes matter: the load is refused before it
        nested = {"image_proj": {"proj.weight": torch.zeros(4 * width, 32)}, "ip_adapter": {
            "1.to_k_ip.weight": torch.zeros(64, width), "1.to_v_ip.weight": torch.zeros(64, width)}}  # fmt: skip
    else:
        nested = initial_state_dict(SimpleNamespace(unet=unet, image_encoder=encoder))
    flat = {f"{part}.{key}": value.contiguous() for part, layers in nested.items() for key, value in layers.items()}
    save_file(flat, file)
    return file
