"""The erasure methods selectable with ``--method``: one line each, naming the method's package.

A package exposes ``Config`` (its options dataclass) and either ``objective.objective(config)`` (a
trained method: its terms, run by the shared trainer) or ``method.erase(config)`` (a closed form, UCE).
Nothing heavy is imported until a method runs, so the CLI parsers stay light.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from bierase.erasing.training_config import TrainingConfig
from bierase.errors import UserError

METHODS = {
    "bi-erasing": "bierase.methods.bi_erasing",
    "esd": "bierase.methods.esd",
    "co-erasing": "bierase.methods.co_erasing",
    "uce": "bierase.methods.uce",
}


def check_method(name: str) -> str:
    if name not in METHODS:
        raise UserError(f"unknown --method {name!r}; choose one of {', '.join(METHODS)}")
    return name


def config_class(name: str) -> type:
    return importlib.import_module(METHODS[check_method(name)]).Config


def method_of(config) -> str:
    """The method a config object is for."""
    for name in METHODS:
        if type(config) is config_class(name):
            return name
    raise UserError(f"{type(config).__name__} is no method's config; use one of bierase's config classes")


def run_method(name: str, config) -> Path:
    """Erase with ``config``: a trained method through the shared trainer, a closed form by itself."""
    package = METHODS[check_method(name)]
    if isinstance(config, TrainingConfig):
        from bierase.erasing.run import erase

        return erase(config, importlib.import_module(f"{package}.objective").objective(config), name)
    return importlib.import_module(f"{package}.method").erase(config)
