"""Peak memory of a block of work: CUDA's allocator counter on a GPU, sampled RSS on a CPU."""

from __future__ import annotations

import threading
from contextlib import contextmanager

import torch


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


@contextmanager
def peak_memory(interval_s: float = 0.05):
    """Yields a dict whose ``"mb"`` is the peak (GPU allocated, else process RSS) once the block ends."""
    result: dict[str, float] = {}
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
        yield result
        result["mb"] = torch.cuda.max_memory_allocated() / 2**20
        result["kind"] = "cuda_allocated"
        return
    peak = [_rss_mb()]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(interval_s):
            peak[0] = max(peak[0], _rss_mb())

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result["mb"] = max(peak[0], _rss_mb())
        result["kind"] = "process_rss"


class SavedActivations:
    """Bytes autograd keeps for the backward pass, counted exactly as the forward saves them.

    Every tensor saved for backward passes through ``saved_tensors_hooks``; each storage counts once
    (views of one tensor share it). ``block`` names where the forward is, so the bytes can be split by
    the part of the model that saved them. The count is the same on any device, which is what lets a
    CPU run at a small size predict a GPU run's activation memory at a larger one.
    """

    def __init__(self) -> None:
        self.by_block: dict[str, int] = {}
        self.block = "outside"
        self._seen: set[int] = set()
        self._handles: list = []

    @property
    def total(self) -> int:
        return sum(self.by_block.values())

    def _pack(self, tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in self._seen:  # packed tensors keep their storage, so a pointer is never reused
            self._seen.add(storage.data_ptr())
            self.by_block[self.block] = self.by_block.get(self.block, 0) + storage.nbytes()
        # detached: a saved output packed as itself would reference its own grad_fn, a cycle that never frees
        return tensor.detach()

    @contextmanager
    def counting(self):
        with torch.autograd.graph.saved_tensors_hooks(self._pack, lambda tensor: tensor):
            yield self

    def track(self, name: str, module: torch.nn.Module) -> None:
        """Attribute what ``module``'s forward saves to ``name`` (hooks stay until ``untrack``)."""

        def enter(*_):
            self.block = name

        def leave(*_):
            self.block = "outside"

        self._handles += [module.register_forward_pre_hook(enter), module.register_forward_hook(leave)]

    def untrack(self) -> None:
        """Remove the hooks ``track`` added: a model counted many times in place carries none of them after."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
