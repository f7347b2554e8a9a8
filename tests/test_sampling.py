"""Seeded generation: an image depends on its own prompt, seed and reference, not on its batch."""

from __future__ import annotations

import numpy as np
import torch

from bierase.sampling import SamplingConfig, generate
from bierase.toyworld.load import load_pipeline


def test_each_prompt_is_guided_by_its_own_reference_image(smoke_world):
    pipe = load_pipeline(smoke_world, ip_adapter=True)
    pipe.set_ip_adapter_scale(5.0)  # the smoke adapter is untrained: make its effect plain
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in range(2))
    config = SamplingConfig(num_inference_steps=2, guidance_scale=3.0, batch_size=2)
    together = generate(pipe, ["a star", "a star"], [0, 0], config, ip_adapter_image=[a, b])

    def by_diffusers(image):  # the pipeline's own IP-Adapter path, one image, independent of ``generate``
        out = pipe("a star", ip_adapter_image=image, num_inference_steps=2, guidance_scale=3.0, output_type="np",
                   generator=torch.Generator().manual_seed(0))  # fmt: skip
        return (out.images[0] * 255).round().clip(0, 255).astype(np.uint8)

    alone_a, alone_b = by_diffusers(a), by_diffusers(b)
    assert not np.array_equal(alone_a, alone_b)  # the reference matters at all
    np.testing.assert_allclose(together[0].astype(int), alone_a.astype(int), atol=1)
    np.testing.assert_allclose(together[1].astype(int), alone_b.astype(int), atol=1)  # b guided the second prompt
