"""A text-prompted segmenter for reference-image masks, as the paper uses CLIPSeg.

A small ``CLIPSegForImageSegmentation`` is trained on the renderer's ground-truth
masks, prompted with any word that names the object (its shape, colour or
pattern, or just "object"). It is saved with a ``CLIPSegProcessor`` so that it
loads and runs like ``CIDAS/clipseg-rd64-refined``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from transformers import (
    CLIPSegConfig,
    CLIPSegForImageSegmentation,
    CLIPSegProcessor,
    CLIPTokenizer,
    ViTImageProcessor,
)

from bierase.toyworld.pool import Pool
from bierase.toyworld.render import IMAGE_SIZE
from bierase.toyworld.tokenizer import MAX_LENGTH
from bierase.toyworld.train.loop import fit
from bierase.toyworld.vocabulary import ATTRIBUTES
from bierase.toyworld.world import LABELS


def segmenter_config(vocab_size: int, width: int = 64) -> CLIPSegConfig:
    text = dict(
        vocab_size=vocab_size, hidden_size=width, intermediate_size=2 * width, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=MAX_LENGTH, projection_dim=width,
        bos_token_id=vocab_size - 2, eos_token_id=vocab_size - 1, pad_token_id=vocab_size - 1,
    )  # fmt: skip
    vision = dict(
        image_size=IMAGE_SIZE, patch_size=4, hidden_size=width, intermediate_size=2 * width,
        num_hidden_layers=3, num_attention_heads=2,
    )  # fmt: skip
    return CLIPSegConfig(
        text_config=text, vision_config=vision, projection_dim=width, extract_layers=[0, 1, 2],
        reduce_dim=32, decoder_num_attention_heads=2, decoder_intermediate_size=64,
    )  # fmt: skip


def segmenter_processor(tokenizer: CLIPTokenizer) -> CLIPSegProcessor:
    images = ViTImageProcessor(
        size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}, image_mean=[0.5] * 3, image_std=[0.5] * 3
    )
    return CLIPSegProcessor(image_processor=images, tokenizer=tokenizer)


def object_prompts(pool: Pool, idx: torch.Tensor, generator: torch.Generator) -> list[str]:
    """For each sample, a random word naming its object (never its background)."""
    prompts = []
    for i in idx.tolist():
        choice = int(torch.randint(4, (1,), generator=generator))
        if choice == 3:
            prompts.append("object")
            continue
        attribute = ("shape", "colour", "pattern")[choice]
        value = LABELS[attribute][int(pool.labels[attribute][i])]
        words = ATTRIBUTES[attribute][value]
        prompts.append(words[int(torch.randint(len(words), (1,), generator=generator))])
    return prompts


def segment(
    model: CLIPSegForImageSegmentation, processor: CLIPSegProcessor, images: np.ndarray, prompts: str | list[str]
) -> torch.Tensor:
    """Soft masks (N, H, W) in [0, 1] for uint8 NHWC images and one prompt (or one per image)."""
    prompts = [prompts] * len(images) if isinstance(prompts, str) else prompts
    inputs = processor(text=prompts, images=list(images), padding="max_length", return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits
    return torch.sigmoid(logits.reshape(len(images), *logits.shape[-2:]))


def train_segmenter(
    pool: Pool, tokenizer: CLIPTokenizer, steps: int, batch_size: int, seed: int
) -> CLIPSegForImageSegmentation:
    torch.manual_seed(seed)
    model = CLIPSegForImageSegmentation(segmenter_config(len(tokenizer)))
    generator = torch.Generator().manual_seed(seed)

    def loss_fn(step: int) -> torch.Tensor:
        idx = pool.draw(batch_size, generator)
        ids = tokenizer(object_prompts(pool, idx, generator), padding="max_length", return_tensors="pt").input_ids
        # the processor's mean/std of 0.5 maps [0, 1] pixels to exactly the pool's [-1, 1]
        logits = model(input_ids=ids, pixel_values=pool.images[idx]).logits.float()
        return F.binary_cross_entropy_with_logits(logits, pool.masks[idx])

    fit(model.parameters(), steps, 1e-3, loss_fn, "segmenter", weight_decay=0.01)
    return model.eval().requires_grad_(False)


def mask_iou(predicted: torch.Tensor, truth: torch.Tensor, threshold: float = 0.5) -> float:
    """Mean IoU of thresholded masks over a batch."""
    p, t = predicted > threshold, truth > threshold
    inter = (p & t).flatten(1).sum(1).float()
    union = (p | t).flatten(1).sum(1).float().clamp(min=1)
    return float((inter / union).mean())
