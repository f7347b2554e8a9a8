"""Checkpoints of a training run: written atomically, loaded without pickle.

A checkpoint is a folder ``step-000100/`` with the trainable tensors and the
RNG state (safetensors), the optimizer state (``torch.save``, loaded with
``weights_only=True``) and the step and loss history (JSON). It is written
under a temporary name and renamed, so a crash never leaves a half-written
checkpoint, and the previous one is removed only after the new one exists.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from bierase.erasing.outputs import CHECKPOINTS as FOLDER


@dataclass
class Checkpoint:
    step: int
    trainable: dict[str, torch.Tensor]
    optimizer: dict
    rng_state: torch.Tensor
    history: list[dict[str, float]]
    segments: list[dict]  # provenance: which steps ran with which resumable options (one entry per start)


def save_checkpoint(output_dir: Path, checkpoint: Checkpoint) -> Path:
    root = Path(output_dir) / FOLDER
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step-{checkpoint.step:06d}"
    tmp = root / f".tmp-step-{checkpoint.step:06d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    save_file(
        {k: v.detach().cpu().contiguous() for k, v in checkpoint.trainable.items()}, tmp / "trainable.safetensors"
    )
    save_file({"rng_state": checkpoint.rng_state}, tmp / "rng.safetensors")
    torch.save(checkpoint.optimizer, tmp / "optimizer.pt")
    (tmp / "state.json").write_text(
        json.dumps({"step": checkpoint.step, "history": checkpoint.history, "segments": checkpoint.segments})
    )
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)
    for old in root.glob("step-*"):
        if old != final:
            shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(output_dir: Path) -> Path | None:
    found = sorted((Path(output_dir) / FOLDER).glob("step-*"))
    return found[-1] if found else None


def load_checkpoint(folder: Path) -> Checkpoint:
    state = json.loads((folder / "state.json").read_text())
    return Checkpoint(
        step=state["step"],
        trainable=load_file(folder / "trainable.safetensors"),
        optimizer=torch.load(folder / "optimizer.pt", weights_only=True),
        rng_state=load_file(folder / "rng.safetensors")["rng_state"],
        history=state["history"],
        segments=state.get("segments", []),
    )
