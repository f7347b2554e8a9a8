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
