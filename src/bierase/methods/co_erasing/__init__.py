"""Co-Erasing (ICML 2025): text + image condition, negative branch only.

Bi-Erasing's reference code is a fork of it; beside Bi-Erasing it isolates what the positive branch adds.
"""

from bierase.methods.co_erasing.config import CoErasingConfig

Config = CoErasingConfig

__all__ = ["CoErasingConfig", "Config"]
