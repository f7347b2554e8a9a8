"""UnlearnDiffAtk's optimisation, for any Stable-Diffusion-layout pipeline: a few prefix tokens that undo an erasure.

The prefix tokens are a soft choice over candidate tokens during optimisation
(a softmax over their embeddings) and the most likely token at the end, so the
attack prompt is plain text. They are optimised so that the erased model's
denoising of a target image of the concept, noised at random timesteps,
matches the noise: the erased model is pushed back to the concept the image
shows.

The soft choice reaches the text encoder through a forward hook on its
token-embedding module (a PyTorch extension point), not by patching it.

On SDXL the prefix is one choice of vocabulary tokens shared by both text
encoders (their tokenizers share CLIP's vocabulary): each position's softmax
mixes each encoder's own embeddings of the same candidates. Everything the
UNet reads from text then comes from the prefixed prompt through the
pipeline's own ``encode_prompt``, as it does when the attack prompt is
generated from: both encoders' states and the pooled embedding (optimised
too), with the time ids of the generation size.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from bierase.erasing.conditions import time_ids, unet_inputs
from bierase.masks.cross_attention import forward_process
from bierase.pipelines import is_sdxl


@dataclass(frozen=True)
class PrefixConfig:
    tokens: int = 5  # UnlearnDiffAtk: 5 prefix tokens, 40 steps
    steps: int = 40
    learning_rate: float = 0.1
    timesteps_per_step: int = 4


def single_token_ids(tokenizer, words: list[str]) -> tuple[torch.Tensor, list[str]]:
    """The token ids of the words that are one token each, and those words."""
    kept = [(ids[0], word) for word in words if len(ids := tokenizer(word, add_special_tokens=False).input_ids) == 1]
    return torch.tensor([i for i, _ in kept]), [w for _, w in kept]


def vocabulary_ids(*tokenizers) -> torch.Tensor:
    """Every token id of the tokenizer except its special tokens (what UnlearnDiffAtk searches on SD); with
    SDXL's two tokenizers, except the special tokens of either (the second pads with "!")."""
    special = {i for tokenizer in tokenizers for i in tokenizer.all_special_ids}
    return torch.tensor([i for i in range(len(tokenizers[0])) if i not in special])


class SoftPrefix:
    """Replaces the token embeddings right after BOS with a softmax mix of candidate token embeddings.

    ``text_encoder`` may be several encoders (SDXL's two): one set of logits, each encoder mixing its own
    embeddings of the same candidate tokens, so the prefix stays one token sequence.
    """

    def __init__(self, text_encoder, candidates: torch.Tensor, n: int, generator: torch.Generator):
        encoders = text_encoder if isinstance(text_encoder, list | tuple) else [text_encoder]
        device = encoders[0].get_input_embeddings().weight.device
        self.candidates = candidates.to(device)
        self.logits = (0.01 * torch.randn(n, len(candidates), generator=generator)).to(device)
        self.logits.requires_grad_(True)
        self.hooks = [e.get_input_embeddings().register_forward_hook(self._replace) for e in encoders]

    def _replace(self, module, inputs, output):
        weights = (
            F.softmax(self.logits.to(module.weight.device), dim=-1)
            @ module.weight[self.candidates.to(module.weight.device)].detach().float()
        )
        output = output.clone()
        output[:, 1 : 1 + len(weights)] = weights.to(output.dtype)
        return output

    def chosen(self) -> list[int]:
        """Indices into ``candidates`` of the most likely token at each prefix position."""
        return self.logits.argmax(-1).tolist()

    def remove(self) -> None:
        for hook in self.hooks:
            hook.remove()


def optimise_prefix(
    pipe, prompt: str, latents: torch.Tensor, candidates: torch.Tensor, config: PrefixConfig, generator: torch.Generator
) -> tuple[list[int], list[float]]:
    """Optimise ``config.tokens`` prefix tokens before ``prompt`` against the target ``latents`` (1, C, h, w).

    Returns the chosen candidate indices and the loss of every step. The UNet
    and text encoder must not require gradients (only the prefix trains).
    """
    # the training noise schedule: sigma-based samplers (SDXL's Euler) cannot add noise before set_timesteps
    tokenizer, encoder, unet, scheduler = pipe.tokenizer, pipe.text_encoder, pipe.unet, forward_process(pipe.scheduler)
    placeholder = " ".join(["a"] * config.tokens) + " " + prompt  # "a" is one token in every CLIP vocabulary
    ids = tokenizer(placeholder, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                    return_tensors="pt").input_ids.to(encoder.device)  # fmt: skip
    sdxl = is_sdxl(pipe)
    prefix = SoftPrefix([encoder, pipe.text_encoder_2] if sdxl else encoder, candidates, config.tokens, generator)
    optimizer = torch.optim.Adam([prefix.logits], lr=config.learning_rate)
    n, losses = config.timesteps_per_step, []
    try:
        for _ in range(config.steps):
            if sdxl:  # the pipeline's own encoding of the prefixed prompt: both encoders' states and the pooled one
                states, _, pooled, _ = pipe.encode_prompt(
                    placeholder, device=encoder.device, num_images_per_prompt=1, do_classifier_free_guidance=False
                )
                inputs = unet_inputs(states.expand(n, -1, -1), None, pooled.to(unet.dtype).expand(n, -1),
                                     time_ids(pipe).to(unet.device))  # fmt: skip
            else:
                inputs = {"encoder_hidden_states": encoder(ids)[0].expand(n, -1, -1)}
            t = torch.randint(0, scheduler.config.num_train_timesteps, (n,), generator=generator)
            noise = torch.randn((n, *latents.shape[1:]), generator=generator)
            clean = latents.expand(n, -1, -1, -1).cpu().float()
            noisy = scheduler.add_noise(clean, noise, t)
            output = unet(noisy.to(unet.device, unet.dtype), t.to(unet.device), **inputs).sample
            # the UNet's answer to the noise: the noise itself, or the velocity of a v-prediction model (SD 2.x)
            target = noise if scheduler.config.prediction_type == "epsilon" else scheduler.get_velocity(clean, noise, t)
            loss = F.mse_loss(output.float(), target.to(output.device))
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
    finally:
        prefix.remove()
    return prefix.chosen(), losses
