"""A CLIP BPE tokenizer whose vocabulary is the toy world's own words.

Stable Diffusion's tokenizer has 49k tokens; the toy world needs a few hundred.
The vocabulary holds every byte symbol (so that any text still tokenizes, as
with CLIP) plus BPE merges, learnt on the world's words, that make each word one token.
"""

from __future__ import annotations

import json

from tokenizers import Tokenizer, models, pre_tokenizers, trainers
from transformers import CLIPTokenizer

BOS, EOS = "<|startoftext|>", "<|endoftext|>"
MAX_LENGTH = 16  # captions are <= 10 words; SD pads to 77, the toy world to 16 (5x cheaper attention)


def _byte_symbols() -> list[str]:
    """The printable stand-ins that byte-level BPE uses for the 256 byte values."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols, shift = [], 0
    for byte in range(256):
        if byte in printable:
            symbols.append(chr(byte))
        else:
            symbols.append(chr(256 + shift))
            shift += 1
    return symbols


def _train_merges(words: list[str]) -> list[tuple[str, str]]:
    """BPE merges learnt on the word list until every word is one token."""
    model = models.BPE(end_of_word_suffix="</w>")
    trainer = trainers.BpeTrainer(
        vocab_size=100_000,  # never reached: training stops when no pair is left to merge
        min_frequency=1,
        show_progress=False,
        end_of_word_suffix="</w>",
    )
    bpe = Tokenizer(model)
    bpe.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    bpe.train_from_iterator(words, trainer)
    return [tuple(pair) for pair in json.loads(bpe.to_str())["model"]["merges"]]


def build_tokenizer(words: list[str]) -> CLIPTokenizer:
    symbols = _byte_symbols()
    merges = _train_merges(words)
    vocab_list = [*symbols, *(s + "</w>" for s in symbols), *("".join(pair) for pair in merges), BOS, EOS]
    vocab = {token: i for i, token in enumerate(dict.fromkeys(vocab_list))}
    return CLIPTokenizer(vocab, merges, model_max_length=MAX_LENGTH)
