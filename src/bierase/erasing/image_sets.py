"""The reference image sets a method's conditions name: images, masks, mean-filled images, embeddings.

Negative images show the concept, positive images its safe alternative. Each set is the user's folder
or images the base pipeline generates (resumable); each image is masked to the concept region and its
background filled with the image's mean colour before encoding, so that nothing else enters the image
embedding (method note, section 2). Everything is written under ``output_dir/references/``.

With ``--rollout noised`` the negative set's images, unmasked (the concept as the base model draws it),
are also encoded by the VAE once: a training step noises them to ``t`` instead of rolling out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from tqdm.auto import tqdm

from bierase.erasing.conditions import encode_images
from bierase.erasing.model_loading import attach_ip_adapter, load_clipseg
from bierase.erasing.reference_config import ImageSetSpec, ReferenceConfig
from bierase.masks.cleanup import CleanupConfig
from bierase.masks.fill import mean_fill
from bierase.masks.io import save_masks
from bierase.masks.sources import make_masks
from bierase.references import ReferenceSet, concept_prompts, generate_reference_set, load_reference_folder
from bierase.sampling import SamplingConfig

SEED_OFFSET = {"negative": 0, "positive": 500_000}  # each set's images have their own seeds


@dataclass
class ImageSets:
    embeds: dict[str, torch.Tensor]  # name -> (N, D) IP-Adapter image embeddings of the whole set
    parts: dict[str, list[tuple[int, int]]]  # name -> (start, size) of each concept's part of the set
    images: dict[str, list]  # name -> the masked, mean-filled images they came from
    record: dict[str, dict]  # name -> where the set came from, for bierase.json
    latents: dict[str, torch.Tensor] = field(default_factory=dict)  # name -> (N, C, h, w) VAE latents (noised)


def reference_set(pipe, config: ReferenceConfig, spec: ImageSetSpec, out: Path) -> tuple[ReferenceSet, list[int]]:
    """The user's folders (one per concept), or images the base pipeline generates for every concept in one
    pass (resumable); returns the set and the size of each concept's part."""
    if spec.folders:
        sets = [load_reference_folder(folder) for folder in spec.folders]
        if len(sets) == 1:
            return sets[0], [len(sets[0])]
        names = [f"{c:03d}-{name}" for c, part in enumerate(sets) for name in part.names]  # one mask file each
        joined = ReferenceSet(
            [i for part in sets for i in part.images], names, [p for part in sets for p in part.prompts],
            [x for part in sets for x in part.seeds], [f"{c:03d}-{n}" for c, part in enumerate(sets) for n in part.skipped],
        )  # fmt: skip
        return joined, [len(part) for part in sets]
    n, start = config.num_reference_images, config.seed * 1_000_003 + SEED_OFFSET[spec.name]
    prompts, seeds = [], []
    for c, concept in enumerate(spec.concepts):
        p, s = concept_prompts([config.reference_prompt], concept, n, start + c * n)
        prompts, seeds = prompts + p, seeds + s
    sampling = SamplingConfig(
        num_inference_steps=config.reference_steps, guidance_scale=config.reference_guidance_scale
    )
    return generate_reference_set(pipe, prompts, seeds, out / "references" / spec.name, sampling), [n] * len(
        spec.concepts
    )


def masked_images(refs: ReferenceSet, sizes: list[int], config: ReferenceConfig, spec: ImageSetSpec, out: Path,
                  segmenter, pipe) -> list:  # fmt: skip
    """Mask each reference image by its concept's queries and fill its background with the mean colour; the
    masks are saved."""
    cleanup = CleanupConfig(threshold=config.mask_threshold, radius=config.mask_radius, sigma=config.mask_sigma)
    masks, start = [], 0
    for concept, size in zip(spec.concepts, sizes):
        images = refs.images[start : start + size]
        masks += make_masks(
            config.mask_source, images, segmenter=segmenter, queries=list(spec.queries) or [concept], pipe=pipe,
            concept=concept, cleanup=cleanup,
        )  # fmt: skip
        start += size
    save_masks(masks, refs.names, out / "references" / f"{spec.name}_masks")
    return [mean_fill(image, mask) for image, mask in zip(refs.images, masks)]


def prepare_image_sets(pipe, config: ReferenceConfig, names: list[str], out: Path) -> ImageSets:
    """The named sets, masked and encoded once; the IP-Adapter is attached to ``pipe`` on the way.

    The references are generated (and masked) by the base model before the image branch is attached.
    """
    specs = {spec.name: spec for spec in config.image_sets()}
    segmenter = _segmenter(config) if config.mask_source == "clipseg" else None
    images, parts, record, latents = {}, {}, {}, {}
    for name in names:
        refs, sizes = reference_set(pipe, config, specs[name], out)
        if name == "negative" and config.rollout == "noised":
            latents[name] = encode_latents(pipe, refs.images)
        images[name] = masked_images(refs, sizes, config, specs[name], out, segmenter, pipe)
        parts[name] = [(sum(sizes[:c]), size) for c, size in enumerate(sizes)]
        record[name] = {"folders": list(specs[name].folders) or "generated", "images": sizes, "skipped": refs.skipped}
    attach_ip_adapter(
        pipe, config.ip_adapter or config.pretrained_model_name_or_path, config.ip_adapter_subfolder,
        config.ip_adapter_weight_name,
    )  # fmt: skip
    embeds = {name: encode_images(pipe, images[name], desc=f"encode {name} references") for name in names}
    return ImageSets(embeds, parts, images, record, latents)


@torch.no_grad()
def encode_latents(pipe, images: list, batch_size: int = 16) -> torch.Tensor:
    """(N, C, h, w) scaled VAE latents of images at the UNet's resolution: the latent distribution's mean, so
    that no random draw is spent (the run's random stream stays that of the training steps)."""
    size = pipe.unet.config.sample_size * pipe.vae_scale_factor
    out = []
    for start in tqdm(range(0, len(images), batch_size), desc="encode latents"):
        batch = [Image.fromarray(image) for image in images[start : start + batch_size]]  # sizes may differ
        pixels = pipe.image_processor.preprocess(batch, height=size, width=size)
        posterior = pipe.vae.encode(pixels.to(pipe.vae.device, pipe.vae.dtype)).latent_dist
        out.append(posterior.mean.float().cpu() * pipe.vae.config.scaling_factor)
    return torch.cat(out)


def _segmenter(config: ReferenceConfig):
    source = config.segmenter
    if not source:
        local = Path(config.pretrained_model_name_or_path) / "segmenter"
        source = str(local) if local.is_dir() else "CIDAS/clipseg-rd64-refined"
    return load_clipseg(source)
