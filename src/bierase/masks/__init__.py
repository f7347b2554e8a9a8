"""Soft masks of the concept region in reference images (``bierase.masks.sources.make_masks``).

Kept import-light: the option parsers read :data:`MASK_SOURCES` without loading numpy or scipy.
"""

MASK_SOURCES = ("clipseg", "cross_attention", "none")

__all__ = ["MASK_SOURCES"]
