"""The GPU memory model of one Bi-Erasing training step, for any ``UNet2DConditionModel`` config.

Static bytes by parameter count: the teacher in bf16 (2 B/param), the student in fp32 (4 B) and, for the
trained parameters, grads and fused Adam's two moments (12 B). Activations: what the student's batched call
on 2 conditions (bf16 autocast) keeps for backward, counted exactly (autograd's saved tensors) at latent
sizes 8 and 16, fitted as a constant (bf16 weight copies) plus a part that grows with the latent area,
checked against a count at 24, and extrapolated to the model's own latent size. With gradient
checkpointing the backward recomputes one checkpointed piece at a time; the largest block's
uncheckpointed activations bound that transient from above (the SD 1.5 figures' bound). A tighter
bound is also given: diffusers checkpoints each ResnetBlock2D and each BasicTransformerBlock on its
own, so the transient is at most the largest of those pieces' uncheckpointed activations. On SDXL,
whose deepest up block holds 30 transformer blocks, the two bounds differ by GiBs.

The counts run on one UNet, changed in place for each parameter set and put back after (an SDXL UNet is
~10 GB in fp32; no copy is made). Shared by ``sd15_unet.py`` and ``sdxl_unet.py``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from bierase.benchmark.memory import SavedActivations
from bierase.erasing.parameters import lora_target_modules, select_parameters

GIB = 2**30
METHODS = ("full", "xattn", "lora")  # lora last: it is the only set that adds parameters
PIECES = ("ResnetBlock2D", "BasicTransformerBlock")  # what diffusers' gradient checkpointing recomputes, one at a time


@dataclass(frozen=True)
class UNetCase:
    """A UNet config and the inputs its forward takes besides the latents and timestep."""

    config: dict
    extra_inputs: Callable[[int], dict] = lambda n: {}  # noqa: E731  added_cond_kwargs etc. for a batch of n
    tokens: int = 77

    @property
    def latent_size(self) -> int:
        return self.config["sample_size"]

    def inputs(self, n: int, size: int) -> tuple[tuple, dict]:
        text = torch.randn(n, self.tokens, self.config["cross_attention_dim"])
        return (torch.randn(n, 4, size, size), torch.tensor([500]), text), self.extra_inputs(n)


def static_memory(total: int, trainable: int) -> dict:
    """Bytes that do not depend on activations: two UNets' weights, grads and Adam's two moments (fp32).

    The trainer uses fused Adam on a GPU, which holds no temporaries at the step; the default (foreach) Adam
    would add one the size of the trained parameters, shown for comparison and not counted.
    """
    return {
        "parameters": total,
        "trainable": trainable,
        "teacher_bf16_gib": 2 * total / GIB,
        "student_fp32_gib": 4 * total / GIB,
        "grads_plus_adam_fp32_gib": 12 * trainable / GIB,
        "static_total_gib": (2 * total + 4 * total + 12 * trainable) / GIB,
        "foreach_adam_step_temporary_gib": 4 * trainable / GIB,
    }


def add_lora(unet: torch.nn.Module) -> list[torch.nn.Parameter]:
    """LoRA r4 on the cross-attention projections, as ``--lora_rank 4 --train_method xattn``."""
    from peft import LoraConfig

    unet.requires_grad_(False)
    unet.add_adapter(LoraConfig(r=4, lora_alpha=4, target_modules=lora_target_modules("xattn")))
    return [p for p in unet.parameters() if p.requires_grad]


@contextmanager
def trained(unet: torch.nn.Module, method: str, checkpointing: bool):
    """``unet`` as the student of ``method`` (its parameters trainable, LoRA added), put back on exit."""
    params = add_lora(unet) if method == "lora" else list(select_parameters(unet, method).values())
    if checkpointing:
        unet.enable_gradient_checkpointing()
    try:
        yield unet.train(), params
    finally:
        unet.disable_gradient_checkpointing()
        if method == "lora":
            unet.unload_lora()
        unet.requires_grad_(False)


def saved_activations(unet, case: UNetCase, size: int, pieces: bool = False) -> SavedActivations:
    """What the student's batched call (2 conditions, bf16 autocast) keeps for backward at ``size`` x ``size``,
    by top-level block, or (``pieces``) by checkpointed piece with the rest as ``outside``."""
    saved = SavedActivations()
    if pieces:
        for name, module in unet.named_modules():
            if type(module).__name__ in PIECES:
                saved.track(name, module)
    for name, child in unet.named_children() if not pieces else ():
        blocks = enumerate(child) if isinstance(child, torch.nn.ModuleList) else [(None, child)]
        for index, block in blocks:  # down_blocks and up_blocks are lists: each block is tracked alone
            saved.track(name if index is None else f"{name}.{index}", block)
    args, kwargs = case.inputs(2, size)
    try:
        with saved.counting(), torch.autocast("cpu", dtype=torch.bfloat16):
            out = unet(*args, **kwargs)
        del out  # the graph, and every tensor it saved, goes with it
    finally:
        saved.untrack()
    gc.collect()
    return saved


def area_fit(small: int, large: int, y_small: float, y_large: float) -> tuple[float, float]:
    """``y = a + b * size**2``: a part that does not grow with the latents (bf16 weight copies kept for
    backward) and one that grows with their area (activations)."""
    b = (y_large - y_small) / (large**2 - small**2)
    return y_small - b * small**2, b


def extrapolate(fit: tuple[float, float], size: int) -> float:
    a, b = fit
    return a + b * size**2


def activations(unet, case: UNetCase, method: str, sizes: tuple[int, int, int] = (8, 16, 24)) -> dict:
    """Saved-for-backward GiB at the model's latent size for one parameter set, fitted on two small sizes and
    checked on a third."""
    (small, large, check), target = sizes, case.latent_size
    with trained(unet, method, False):
        plain = {s: saved_activations(unet, case, s) for s in sizes}
        by_piece = {s: saved_activations(unet, case, s, pieces=True) for s in (small, large)}
    with trained(unet, method, True):
        ckpt = {s: saved_activations(unet, case, s) for s in (small, large)}
    a, b = area_fit(small, large, plain[small].total, plain[large].total)
    a_ckpt, b_ckpt = area_fit(small, large, ckpt[small].total, ckpt[large].total)
    block = max(plain[large].by_block, key=plain[large].by_block.get)  # the largest block, recomputed whole
    a_block, b_block = area_fit(small, large, plain[small].by_block[block], plain[large].by_block[block])
    piece_sizes = {  # each piece's bytes at the model's size, fitted like the blocks'
        name: extrapolate(
            area_fit(small, large, by_piece[small].by_block[name], by_piece[large].by_block[name]), target
        )
        for name in by_piece[large].by_block
        if name != "outside"
    }
    piece = max(piece_sizes, key=piece_sizes.get)
    return {
        "saved_bytes": {str(s): p.total for s, p in plain.items()},
        "saved_bytes_checkpointing": {str(s): p.total for s, p in ckpt.items()},
        "fit_constant_bytes": a, "fit_bytes_per_latent_pixel": b,
        "fit_check": {"size": check, "predicted": a + b * check**2, "measured": plain[check].total},
        "no_checkpointing_gib": (a + b * target**2) / GIB,
        "checkpointing_saved_gib": (a_ckpt + b_ckpt * target**2) / GIB,
        "checkpointing_recompute_bound_gib": (a_block + b_block * target**2) / GIB, "largest_block": block,
        "checkpointing_gib": (a_ckpt + b_ckpt * target**2 + a_block + b_block * target**2) / GIB,
        "checkpointing_piece_bound_gib": piece_sizes[piece] / GIB, "largest_piece": piece,
        "checkpointing_tight_gib": (a_ckpt + b_ckpt * target**2 + piece_sizes[piece]) / GIB,
    }  # fmt: skip


def gpu_memory_model(unet, case: UNetCase, log: Callable[[str], None] = print) -> dict:
    """Estimated peak GPU memory at the model's latent size per parameter set: static bytes plus counted,
    scaled activations. ``unet`` is left as it was given (frozen, no LoRA, no checkpointing)."""
    models = {}
    for method in METHODS:
        with trained(unet, method, False) as (_, params):
            static = static_memory(sum(p.numel() for p in unet.parameters()), sum(p.numel() for p in params))
        act = activations(unet, case, method)
        models[method] = {
            **static, "activations": act,
            "estimated_peak_gib": {
                "checkpointing": static["static_total_gib"] + act["checkpointing_gib"],
                "checkpointing_piece_bound": static["static_total_gib"] + act["checkpointing_tight_gib"],
                "no_checkpointing": static["static_total_gib"] + act["no_checkpointing_gib"],
            },
        }  # fmt: skip
        peak = models[method]["estimated_peak_gib"]
        log(f"{method}: {static['static_total_gib']:.2f} GiB static + {act['checkpointing_gib']:.2f} GiB "
            f"activations with checkpointing = {peak['checkpointing']:.2f} GiB (largest piece's bound "
            f"{peak['checkpointing_piece_bound']:.2f}); without {peak['no_checkpointing']:.2f} GiB")  # fmt: skip
    return models
