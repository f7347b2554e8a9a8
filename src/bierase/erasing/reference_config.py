"""The options of methods conditioned on reference images through IP-Adapter (Co-Erasing, Bi-Erasing).

The negative set (images of the concept) is every such method's; a method with a positive set
(Bi-Erasing) adds its own ``positive_*`` fields and lists both in :meth:`ReferenceConfig.image_sets`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bierase.erasing.options import option
from bierase.erasing.training_config import TrainingConfig
from bierase.masks import MASK_SOURCES


@dataclass(frozen=True)
class ImageSetSpec:
    """One reference set: the concepts it shows (a part of the set per concept), the user's folders, one per
    concept (none: generated), and the segmenter queries (none: each part's concept)."""

    name: str  # "negative" or "positive": the key its conditions name
    concepts: tuple[str, ...]
    folders: tuple[str, ...]
    queries: tuple[str, ...]


@dataclass
class ReferenceConfig(TrainingConfig):
    ip_adapter: str = option("IP-Adapter folder or hub id (default: the model folder)", default="")
    ip_adapter_subfolder: str = option("subfolder of the IP-Adapter weights, e.g. 'models' for h94/IP-Adapter",
                                       default="")  # fmt: skip
    ip_adapter_weight_name: str = option("IP-Adapter weights file, e.g. ip-adapter_sd15.safetensors",
                                         default="ip_adapter.safetensors")  # fmt: skip
    # reference images
    negative_images: list[str] = option(
        "folders of concept images, one per concept; generated from the base model when none", default_factory=list,
        one_or_many=True,
    )  # fmt: skip
    num_reference_images: int = option("images per concept and reference set when generated (one generation "
                                       "pass for all concepts)", default=100, low=1)  # fmt: skip
    reference_prompt: str = option("template for generated references", default="a photo of {concept}")
    reference_steps: int = option("sampling steps for generated references", default=50, low=1)
    reference_guidance_scale: float = option("guidance for generated references", default=7.5, low=0)
    # masks
    mask_source: str = option("where the reference masks come from", default="clipseg", choices=MASK_SOURCES)
    segmenter: str = option(
        "CLIPSeg folder or hub id; default: segmenter/ in the model folder, else CIDAS/clipseg-rd64-refined", default=""
    )
    negative_queries: list[str] = option("segmenter queries for the negative set (default: the concept)",
                                         default_factory=list)  # fmt: skip
    mask_threshold: float = option("segmenter probability threshold", default=0.45, low=0, high=1)
    mask_radius: int = option("disk radius (px) of the morphological close/open", default=3, low=0)
    mask_sigma: float = option("Gaussian blur (px) that softens the mask", default=2.0, low=0)
    # the image embeddings
    cache_embeddings: bool = option(
        "encode reference images once (off: re-encode the drawn images every step, as the reference code)", default=True
    )
    embedding_noise: float = option("std of Gaussian noise on the drawn image embeddings", default=0.0, low=0)

    def validate(self) -> None:
        super().validate()
        n = len(self.concept)
        self.check_count("negative_images", {0: "none", n: "one folder per concept"}, f"{n} concept(s)")

    def uses_images(self) -> bool:
        return True

    def image_sets(self) -> list[ImageSetSpec]:
        return [
            ImageSetSpec("negative", tuple(self.concept), tuple(self.negative_images), tuple(self.negative_queries))
        ]
