"""Bi-Erasing (arXiv 2512.13039): bidirectional, image-guided concept erasure."""

from bierase.methods.bi_erasing.config import BiErasingConfig
from bierase.methods.bi_erasing.trainer import erase

__all__ = ["BiErasingConfig", "erase"]
