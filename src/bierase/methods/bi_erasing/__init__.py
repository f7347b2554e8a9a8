"""Bi-Erasing (arXiv 2512.13039): bidirectional, image-guided concept erasure.

A negative branch pushes the concept away and a positive branch guides to a safe alternative, both
conditioned on masked reference images through IP-Adapter (``objective``); the shared trainer runs it.
"""

from bierase.methods.bi_erasing.config import BiErasingConfig

Config = BiErasingConfig

__all__ = ["BiErasingConfig", "Config"]
