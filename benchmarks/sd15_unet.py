"""Training-step time and peak memory of a Stable Diffusion 1.5-size UNet, for each parameter set.

The UNet is built from SD 1.5's published config with random weights (no
download). Each variant runs Bi-Erasing's per-iteration work: a batched
teacher call on 4 conditions (no grad) and a batched student call on 2 with
backward and an Adam step. On a CPU the latents are reduced (--size); on a GPU
they are SD's 64x64. Peak memory is the CUDA allocator's peak on a GPU and the
process RSS on a CPU.

The memory model gives the GPU figure with its arithmetic: weights, grads and
Adam's moments by parameter count, plus the activations the student's forward
keeps for backward, counted exactly (autograd's saved tensors, bf16 autocast)
at latent sizes 8 and 16, fitted as a constant (bf16 weight copies) plus a
part that grows with the latent area, checked against a count at 24, and
extrapolated to 64x64. With gradient checkpointing the backward recomputes one
checkpointed piece at a time; the largest block's uncheckpointed activations
bound that transient from above.

    python benchmarks/sd15_unet.py [--quick] [--size 16]
"""

from __future__ import annotations

import copy
import gc

import torch
from common import parser, stopwatch, write
from diffusers import UNet2DConditionModel

from bierase.benchmark.memory import SavedActivations, peak_memory
from bierase.erasing.parameters import lora_target_modules, select_parameters

SD15_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=(320, 640, 1280, 1280),
    down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"),
    cross_attention_dim=768, attention_head_dim=8, norm_num_groups=32,
)  # fmt: skip


def memory_model(unet: torch.nn.Module, trainable: int) -> dict:
    """Bytes that do not depend on activations: two UNets' weights, grads and Adam's two moments (fp32).

    The trainer uses fused Adam on a GPU, which holds no temporaries at the step; the default (foreach) Adam
    would add one the size of the trained parameters, shown for comparison and not counted.
    """
    total = sum(p.numel() for p in unet.parameters())
    gib = 2**30
    return {
        "parameters": total,
        "trainable": trainable,
        "teacher_bf16_gib": 2 * total / gib,
        "student_fp32_gib": 4 * total / gib,
        "grads_plus_adam_fp32_gib": 12 * trainable / gib,
        "static_total_gib": (2 * total + 4 * total + 12 * trainable) / gib,
        "foreach_adam_step_temporary_gib": 4 * trainable / gib,
    }


def student(base, method: str, checkpointing: bool) -> tuple[torch.nn.Module, list[torch.nn.Parameter]]:
    unet = copy.deepcopy(base)
    if method == "lora":
        from peft import LoraConfig

        unet.requires_grad_(False)
        unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=lora_target_modules("xattn")))
        params = [p for p in unet.parameters() if p.requires_grad]
    else:
        params = list(select_parameters(unet, method).values())
    if checkpointing:
        unet.enable_gradient_checkpointing()
    return unet.train(), params


def saved_activations(base, method: str, checkpointing: bool, size: int) -> SavedActivations:
    """What the student's batched call (2 conditions, bf16 autocast) keeps for backward at ``size`` x ``size``."""
    unet, _ = student(base, method, checkpointing)
    saved = SavedActivations()
    for name, child in unet.named_children():  # down_blocks and up_blocks are lists: each block is tracked alone
        blocks = enumerate(child) if isinstance(child, torch.nn.ModuleList) else [(None, child)]
        for index, block in blocks:
            saved.track(name if index is None else f"{name}.{index}", block)
    with saved.counting(), torch.autocast("cpu", dtype=torch.bfloat16):
        unet(torch.randn(2, 4, size, size), torch.tensor([500]), torch.randn(2, 77, 768))
    del unet
    gc.collect()
    return saved


def area_fit(small: int, large: int, y_small: float, y_large: float) -> tuple[float, float]:
    """``y = a + b * size**2``: a part that does not grow with the latents (bf16 weight copies kept for
    backward) and one that grows with their area (activations)."""
    b = (y_large - y_small) / (large**2 - small**2)
    return y_small - b * small**2, b


def activation_model(base, sizes: tuple[int, int, int] = (8, 16, 24)) -> dict:
    """Saved-for-backward GiB at 64x64 per parameter set, fitted on two small sizes and checked on a third."""
    gib, rows, (small, large, check) = 2**30, {}, sizes
    for method in ("full", "xattn", "lora"):
        plain = {s: saved_activations(base, method, False, s) for s in sizes}
        ckpt = {s: saved_activations(base, method, True, s) for s in (small, large)}
        a, b = area_fit(small, large, plain[small].total, plain[large].total)
        a_ckpt, b_ckpt = area_fit(small, large, ckpt[small].total, ckpt[large].total)
        block = max(plain[large].by_block, key=plain[large].by_block.get)  # the largest block, recomputed whole
        a_block, b_block = area_fit(small, large, plain[small].by_block[block], plain[large].by_block[block])
        rows[method] = {
            "saved_bytes": {str(s): p.total for s, p in plain.items()},
            "saved_bytes_checkpointing": {str(s): p.total for s, p in ckpt.items()},
            "fit_constant_bytes": a, "fit_bytes_per_latent_pixel": b,
            "fit_check": {"size": check, "predicted": a + b * check**2, "measured": plain[check].total},
            "no_checkpointing_gib": (a + b * 64**2) / gib,
            "checkpointing_saved_gib": (a_ckpt + b_ckpt * 64**2) / gib,
            "checkpointing_recompute_bound_gib": (a_block + b_block * 64**2) / gib, "largest_block": block,
            "checkpointing_gib": (a_ckpt + b_ckpt * 64**2 + a_block + b_block * 64**2) / gib,
        }  # fmt: skip
    return rows


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
              "memory_kind": memory["kind"], "model": memory_model(model, sum(p.numel() for p in params))}  # fmt: skip
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
                        "memory_model": gpu_memory_model(base)})  # fmt: skip


def gpu_memory_model(base) -> dict:
    """Estimated peak GPU memory at 64x64 per parameter set: static bytes plus counted, scaled activations."""
    activations = activation_model(base)
    models = {}
    for method in ("full", "xattn", "lora"):
        unet, params = student(base, method, False)
        static = memory_model(unet, sum(p.numel() for p in params))
        del unet, params
        act = activations[method]
        models[method] = {
            **static, "activations": act,
            "estimated_peak_gib": {
                "checkpointing": static["static_total_gib"] + act["checkpointing_gib"],
                "no_checkpointing": static["static_total_gib"] + act["no_checkpointing_gib"],
            },
        }  # fmt: skip
        print(f"{method}: {static['static_total_gib']:.2f} GiB static + {act['checkpointing_gib']:.2f} GiB "
              f"activations with checkpointing = {models[method]['estimated_peak_gib']['checkpointing']:.2f} GiB; "
              f"without {models[method]['estimated_peak_gib']['no_checkpointing']:.2f} GiB")  # fmt: skip
    return models


if __name__ == "__main__":
    main()
