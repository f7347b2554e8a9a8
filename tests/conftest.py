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
