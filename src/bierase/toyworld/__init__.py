"""The toy world: rendered shapes and a small text-to-image model family trained on them."""

from bierase.toyworld.load import load_judge, load_pipeline, load_segmenter, model_path

__all__ = ["load_judge", "load_pipeline", "load_segmenter", "model_path"]
