"""Session fixtures: the tiny SDXL and SD 2.x folders of ``tiny_pipelines``, built once (seconds)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_pipelines import build_sd2, build_sdxl


@pytest.fixture(scope="session")
def sdxl_folder(tmp_path_factory) -> Path:
    return build_sdxl(tmp_path_factory.mktemp("sdxl") / "base")


@pytest.fixture(scope="session")
def sd2_folder(tmp_path_factory) -> Path:
    return build_sd2(tmp_path_factory.mktemp("sd2") / "base")
