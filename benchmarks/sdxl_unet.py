"""Peak GPU memory of a training step on an SDXL base-size UNet, by the memory model of ``unet_memory.py``.

The UNet is built from SDXL base's published config with random weights (no download): 2.57 B parameters,
~10 GB in fp32, built once and counted in place. The model's figures are for 128x128 latents (1024 px),
bf16, batch 1, the student's call on 2 conditions, with the SDXL conditions the trainer passes (the
pooled text embedding and the six time ids). They are the model, not a CUDA peak: no GPU ran them.

Unlike ``sd15_unet.py`` nothing is timed: on a CPU one SDXL training step at a usable size takes minutes,
and training it fully needs ~40 GB of host memory.

    python benchmarks/sdxl_unet.py    # ~2 min on one CPU thread, ~16 GB of host memory
"""

from __future__ import annotations

import torch
from common import parser, write
from diffusers import UNet2DConditionModel
from unet_memory import UNetCase, gpu_memory_model

# stabilityai/stable-diffusion-xl-base-1.0 unet/config.json (the fields that differ from the defaults)
SDXL_UNET = dict(
    sample_size=128, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280),
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"),
    transformer_layers_per_block=(1, 2, 10), attention_head_dim=(5, 10, 20), cross_attention_dim=2048,
    use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816, norm_num_groups=32,
)  # fmt: skip
POOLED = 1280  # the second text encoder's projection: 2816 = 1280 + 6 time ids x 256
GOAL_GIB = 24  # xattn and LoRA are to fit one 24 GiB GPU


def sdxl_conditions(n: int) -> dict:
    """What the trainer gives SDXL's UNet besides the text states: pooled embeddings and 1024 px time ids."""
    time_ids = torch.tensor([[1024.0, 1024, 0, 0, 1024, 1024]]).expand(n, -1)
    return {"added_cond_kwargs": {"text_embeds": torch.randn(n, POOLED), "time_ids": time_ids}}


def main() -> None:
    parser(__doc__.splitlines()[0]).parse_args()  # --quick changes nothing: there is no timing loop to shorten
    torch.set_num_threads(1)  # a shared machine: one core
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**SDXL_UNET).requires_grad_(False)
    models = gpu_memory_model(unet, UNetCase(SDXL_UNET, sdxl_conditions))
    fits = {
        method: {mode: peak <= GOAL_GIB for mode, peak in model["estimated_peak_gib"].items()}
        for method, model in models.items()
    }
    write("sdxl_unet", {"device": "cpu (the memory model; no CUDA peak)", "latent_size": SDXL_UNET["sample_size"],
                        "goal_gib": GOAL_GIB, "fits_goal": fits, "memory_model": models})  # fmt: skip


if __name__ == "__main__":
    main()
