"""Shared fixtures: a smoke-built toy world (seconds) and the network switched off."""

from __future__ import annotations

import os

import pytest

# Tests never reach a model hub: everything they load is built here or shipped.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def smoke_world(tmp_path_factory):
    """A toy world built by the real recipe in its smoke setting (every stage runs, nothing is learnt)."""
    from bierase.toyworld.build import BuildConfig, build

    return build(tmp_path_factory.mktemp("smoke") / "world", BuildConfig.smoke())


# the smallest run of any trained method on the smoke world: seconds, every stage for real
TINY_RUN = dict(
    concept="nude", positive_concept="clothed", num_reference_images=2, reference_steps=1, mask_source="none",
    train_method="xattn", learning_rate=1e-3, max_train_steps=2, ddim_steps=3, checkpointing_steps=0,
)  # fmt: skip


@pytest.fixture(scope="session")
def tiny_config(smoke_world):
    """``tiny_config(method, output_dir, **options)``: a method's config for a seconds-long smoke run
    (the options of ``TINY_RUN`` that the method has, under ``options``)."""
    from bierase.methods.registry import config_class

    def make(method: str, output_dir, **options):
        cls = config_class(method)
        base = {k: v for k, v in TINY_RUN.items() if k in cls.field_names()}
        return cls(pretrained_model_name_or_path=str(smoke_world), output_dir=str(output_dir), **{**base, **options})

    return make


@pytest.fixture(scope="session")
def make_trainer():
    """``make_trainer(pipe, config, terms)``: the shared trainer on ``pipe`` with random reference embeddings
    (3 per set the terms name) instead of generated references; returns it and its texts."""
    import torch
    from accelerate import Accelerator

    from bierase.erasing.conditions import encode_texts
    from bierase.erasing.image_sets import ImageSets
    from bierase.erasing.objective import image_sets_of, texts_of
    from bierase.erasing.trainer import Trainer

    def make(pipe, config, terms, method="test"):
        prompts = config.prompts()
        texts = encode_texts(pipe, {k: prompts[k] for k in dict.fromkeys(["empty", "concept", *texts_of(terms)])})
        names = image_sets_of(terms)
        sets = None
        if names:
            dim = pipe.image_encoder.config.projection_dim
            g = torch.Generator().manual_seed(1)
            sets = ImageSets({n: torch.randn(3, dim, generator=g) for n in names}, {n: [(0, 3)] for n in names}, {}, {})
        return Trainer(pipe, terms, texts, sets, config, Accelerator(cpu=True), method), texts

    return make
