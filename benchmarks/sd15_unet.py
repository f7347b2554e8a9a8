"""Training-step time and peak memory of a Stable Diffusion 1.5-size UNet, for each parameter set.

The UNet is built from SD 1.5's published config with random weights (no
download). Each variant runs Bi-Erasing's per-iteration work: a batched
teacher call on 4 conditions (no grad) and a batched student call on 2 with
backward and an Adam step. On a CPU the latents are reduced (--size); on a GPU
they are SD's 64x64. Peak memory is the CUDA allocator's peak on a GPU and the
process RSS on a CPU.

The memory model (``unet_memory.py``, shared with ``sdxl_unet.py``) gives the
GPU figure with its arithmetic: weights, grads and Adam's moments by parameter
count, plus the activations the student's forward keeps for backward, counted
exactly (autograd's saved tensors, bf16 autocast) at latent sizes 8 and 16,
fitted as a constant (bf16 weight copies) plus a part that grows with the
latent area, checked against a count at 24, and extrapolated to 64x64. It runs
last, on the timed runs' base UNet.

    python benchmarks/sd15_unet.py [--quick] [--size 16]
"""

from __future__ import annotations

import copy
import gc

import torch
from common import parser, stopwatch, write
from diffusers import UNet2DConditionModel
from unet_memory import UNetCase, add_lora, gpu_memory_model, static_memory

from bierase.benchmark.memory import peak_memory
from bierase.erasing.parameters import select_parameters

SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32,
)  # fmt: skip


def student(base, method: str, checkpointing: bool) -> tuple[torch.nn.Module, list[torch.nn.Parameter]]:
    """A trained copy of ``base`` for the timed steps (the teacher stays ``base``)."""
    unet = copy.deepcopy(base)
    params = add_lora(unet) if method == "lora" else list(select_parameters(unet, method).values())
    if checkpointing:
        unet.enable_gradient_checkpointing()
    return unet.train(), params


def step_time(base, variant: dict, size: int, steps: int, device: str) -> dict:
    teacher = copy.deepcopy(base).requires_grad_(False).to(device, torch.bfloat16 if variant["bf16"] else torch.float32)
    model, params = student(base, variant["method"], variant["checkpointing"])
    model.to(device)
    optimizer = torch.optim.Adam(params, lr=1e-5, fused=device == "cuda")  # as the trainer
    z = torch.randn(1, 4, size, size, device=device)
    text = torch.randn(1, 77, 768, device=device)
    t = torch.tensor([500], device=device)
    dtype = torch.bfloat16 if variant["bf16"] else torch.float32
    with peak_memory() as memory, stopwatch() as clock:
        for _ in range(steps):
            with torch.no_grad(), torch.autocast(device, dtype=dtype, enabled=variant["bf16"]):
                target = teacher(z.repeat(4, 1, 1, 1).to(dtype), t, text.repeat(4, 1, 1).to(dtype)).sample.float()
            with torch.autocast(device, dtype=dtype, enabled=variant["bf16"]):
                pred = model(z.repeat(2, 1, 1, 1), t, text.repeat(2, 1, 1)).sample.float()
            loss = torch.nn.functional.mse_loss(pred, target[:2])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
    result = {**variant, "s_per_iteration": clock["s"] / steps, "peak_memory_mb": memory["mb"],
              "memory_kind": memory["kind"],
              "model": static_memory(sum(p.numel() for p in model.parameters()), sum(p.numel() for p in params))}  # fmt: skip
    del model, teacher, optimizer
    gc.collect()
    return result


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=None, help="latent size (default: 64 on a GPU, 16 on a CPU)")
    p.add_argument("--full", action="store_true", help="also time `full` on a CPU (needs ~19 GB of memory)")
    args = p.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size = args.size or (64 if device == "cuda" else 16)
    steps = 2 if args.quick else 5
    torch.manual_seed(0)
    base = UNet2DConditionModel(**SD15_UNET)
    variants = [dict(method=m, checkpointing=c, bf16=b) for m in ("full", "xattn", "lora") for c in (False, True)
                for b in ((True,) if args.quick else (False, True))]  # fmt: skip
    if args.quick:
        variants = [v for v in variants if v["checkpointing"] == (v["method"] == "full")]
    if device == "cpu" and not args.full:
        # full training of an 860M-parameter UNet needs ~19 GB of host memory: its figure comes from the model
        variants = [v for v in variants if v["method"] != "full"]
    rows = [step_time(base, v, size, steps, device) for v in variants]
    write("sd15_unet", {"device": device, "latent_size": size, "steps": steps, "rows": rows,
                        "memory_model": gpu_memory_model(base, UNetCase(SD15_UNET))})  # fmt: skip


if __name__ == "__main__":
    main()
