"""A UCE run: inputs checked, text vectors encoded, every cross-attention key/value edited, outputs written.

Which vectors (``--tokens``)
----------------------------
Each prompt goes through the pipeline's own ``encode_prompt`` (the text
encoder's output, what the UNet's cross-attention sees), padded to the
tokenizer's length as at inference. BOS is never used: its state is the same
for every prompt. With ``--tokens all`` (the default) a prompt contributes its
word tokens, its EOS and every padding position after it; with
``--tokens words_eos``, its words and EOS only. ``all`` follows the UCE
reference code, which edits from the concept's last word to the end of the
sequence: CLIP's text encoder is causal, so EOS and the padding after it carry
the whole prompt, and the UNet attends to them as much as to the words;
leaving them unedited lets the concept through.

Pairing a concept's vectors with its guide's
--------------------------------------------
The two prompts are aligned at EOS (concept EOS with guide EOS, padding with
padding), as in the reference code. Concept words beyond the guide's length
map to the guide's BOS state (for the default guide, the empty prompt ``""``,
every concept word does): BOS is the state every prompt shares, i.e. "no
content". Positions pushed past the end of the sequence by a longer guide are
dropped. The target of c_i in a projection W is v_i* = W c_i*, with W the
unedited weights. Preserved prompts contribute the same positions, each kept
at W c_j.

On SDXL the text states are both encoders' (penultimate) hidden states,
concatenated per position (2048-d on SDXL base: what ``encode_prompt``
returns and every ``attn2`` reads). Both tokenizers share CLIP's vocabulary,
so a prompt has the same positions in both and the pairing above holds for
the concatenated states as it is; a pair of tokenizers that count a prompt's
tokens differently is refused. The pooled embedding does not enter
cross-attention, so UCE leaves it alone.

Every ``attn2`` (cross-attention) ``to_k`` and ``to_v`` of the UNet gets the
closed-form edit of :func:`bierase.methods.uce.edit.closed_form_edit`, in
float64, written back in the UNet's dtype; nothing else changes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from bierase.erasing.model_loading import check_model_source, load_base_pipeline
from bierase.erasing.outputs import CONFIG_FILE, RUN_FILE, prepare_run_dir
from bierase.erasing.saving import non_finite, save_pipeline_folder, save_unet
from bierase.errors import UserError
from bierase.methods.uce.config import UCEConfig
from bierase.methods.uce.edit import closed_form_edit
from bierase.runinfo import write_run_info

PROJECTIONS = ("to_k", "to_v")


@dataclass
class EditVectors:
    erase: torch.Tensor  # (N, d): c_i, the erased concepts' text-encoder outputs
    guide: torch.Tensor  # (N, d): c_i*, the guide's outputs paired with them (v_i* = W c_i*)
    preserve: torch.Tensor  # (M, d): c_j, kept at W c_j


def check_before_loading(config: UCEConfig) -> Path:
    """Everything that can be checked without loading a model; returns the output folder."""
    config.check_fields()
    config.validate()
    config.require_run_fields()
    check_model_source(config.pretrained_model_name_or_path)
    return prepare_run_dir(config.output_dir, resume=False, overwrite=config.overwrite)


def erase(config: UCEConfig) -> Path:
    """Run UCE; returns the output folder (``unet/``, ``config.yaml``, ``bierase.json``, optionally ``pipeline/``)."""
    out = check_before_loading(config)
    config.save_yaml(out / CONFIG_FILE, "uce")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    pipe = load_base_pipeline(config.pretrained_model_name_or_path, device)

    started = time.perf_counter()
    vectors = edit_vectors(pipe, config)
    edited = edit_cross_attention(pipe.unet, vectors, config.erase_scale, config.preserve_scale)
    seconds = round(time.perf_counter() - started, 1)
    broken = non_finite(dict(pipe.unet.named_parameters()))
    if broken:
        raise UserError(f"the edit left {len(broken)} non-finite weight tensors (e.g. {broken[0]}); lower the scales")
    save_unet(pipe.unet, dict(pipe.unet.config), out)
    if config.save_pipeline:
        save_pipeline_folder(config.pretrained_model_name_or_path, out, lora=False)
    write_run_info(  # last: the mark of a finished run
        out, config, name=RUN_FILE, method="uce", concept=config.concept,
        positive_concept=config.positive_concept, base_model=config.pretrained_model_name_or_path,
        weights="unet", seconds=seconds, edited_parameters=edited,
        vectors={"erase": len(vectors.erase), "preserve": len(vectors.preserve)},
    )  # fmt: skip
    return out


def token_pairs(n_concept: int, n_guide: int, length: int, tokens: str = "all") -> list[tuple[int, int]]:
    """(concept position, guide position) pairs for prompts of ``n_concept`` and ``n_guide`` word tokens.

    Positions index the padded sequence of ``length``: 0 is BOS, words follow,
    then EOS (position ``n + 1``) and padding. Aligned at EOS; see the module docstring.
    """
    last = length - 1 if tokens == "all" else n_concept + 1
    pairs = []
    for position in range(1, last + 1):
        guide_position = max(0, position - n_concept + n_guide)
        if guide_position < length:
            pairs.append((position, guide_position))
    return pairs


def word_count(tokenizer, prompt: str, length: int) -> int:
    """Word tokens of ``prompt`` as ``encode_prompt`` sees it (truncated to ``length`` with BOS and EOS)."""
    ids = tokenizer(prompt, truncation=True, max_length=length).input_ids
    return len(ids) - 2


def pipeline_word_count(pipe, prompt: str, length: int) -> int:
    """``word_count`` for the pipeline; on SDXL both tokenizers must agree, or the concatenated states of one
    position would hold two different tokens."""
    n = word_count(pipe.tokenizer, prompt, length)
    second = getattr(pipe, "tokenizer_2", None)
    if second is not None and word_count(second, prompt, length) != n:
        raise UserError(f"the two tokenizers split {prompt!r} differently; UCE pairs positions of both encoders' "
                        "states, so it needs tokenizers that share a vocabulary (as SDXL's do)")  # fmt: skip
    return n


@torch.no_grad()
def prompt_states(pipe, prompt: str) -> torch.Tensor:
    """(L, d) text states of ``prompt``, float64: what the UNet's cross-attention reads (on SDXL, both encoders'
    states concatenated). Keywords, because SDXL's ``encode_prompt`` takes ``prompt_2`` second. The prompt is
    always encoded, "" too: SDXL's zeros stand for an absent negative prompt, not for the prompt ""."""
    states = pipe.encode_prompt(prompt, device=pipe.device, num_images_per_prompt=1, do_classifier_free_guidance=False)
    return states[0][0].to(torch.float64)


def edit_vectors(pipe, config: UCEConfig) -> EditVectors:
    erase, guide, preserve = [], [], []
    for concept, guide_prompt in zip(config.concepts(), config.guides()):
        states, guide_states = prompt_states(pipe, concept), prompt_states(pipe, guide_prompt)
        length = states.shape[0]
        pairs = token_pairs(
            pipeline_word_count(pipe, concept, length), pipeline_word_count(pipe, guide_prompt, length),
            length, config.tokens,
        )  # fmt: skip
        erase.append(states[[p for p, _ in pairs]])
        guide.append(guide_states[[q for _, q in pairs]])
    for prompt in config.preserve_concepts:
        states = prompt_states(pipe, prompt)
        n = pipeline_word_count(pipe, prompt, states.shape[0])
        preserve.append(states[[p for p, _ in token_pairs(n, n, states.shape[0], config.tokens)]])
    width = erase[0].shape[1]
    return EditVectors(
        erase=torch.cat(erase),
        guide=torch.cat(guide),
        preserve=torch.cat(preserve) if preserve else erase[0].new_zeros(0, width),
    )


def cross_attention_projections(unet) -> dict[str, torch.nn.Linear]:
    """``{parameter name: layer}`` of every ``attn2.to_k`` / ``attn2.to_v`` that reads the text states."""
    found = {}
    for name, module in unet.named_modules():
        if name.split(".")[-1] == "attn2" and getattr(module, "is_cross_attention", True):
            for projection in PROJECTIONS:
                found[f"{name}.{projection}.weight"] = getattr(module, projection)
    return found


@torch.no_grad()
def edit_cross_attention(unet, vectors: EditVectors, erase_scale: float, preserve_scale: float) -> list[str]:
    """Edit every cross-attention key/value projection in place; returns the edited parameter names."""
    layers = cross_attention_projections(unet)
    if not layers:
        raise UserError("the UNet has no cross-attention (attn2) key/value projections for UCE to edit")
    width = vectors.erase.shape[1]
    for name, layer in layers.items():
        if layer.in_features != width:
            raise UserError(
                f"{name} reads {layer.in_features}-dim text states but the text encoder gives {width}; "
                "the pipeline's UNet and text encoder do not match"
            )
        device = layer.weight.device
        old = layer.weight.detach().to(torch.float64)
        targets = vectors.guide.to(device) @ old.T  # v_i* = W c_i*, with the unedited W
        erase, preserve = vectors.erase.to(device), vectors.preserve.to(device)
        layer.weight.copy_(closed_form_edit(layer.weight, erase, targets, preserve, erase_scale, preserve_scale))
    return list(layers)
