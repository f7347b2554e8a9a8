"""Co-Erasing (ICML 2025): text + image condition, negative branch only.

Bi-Erasing's reference code is a fork of it; here it is Bi-Erasing with the
positive branch off, so the comparison isolates that branch.
"""

from bierase.methods.co_erasing.config import CoErasingConfig

METHOD = "co-erasing"
Config = CoErasingConfig

__all__ = ["CoErasingConfig", "Config", "METHOD"]
