"""Protocol ``toyworld-identities/v1``: erasing k of the toy world's names at once (MACE's celebrity protocol).

The names are the world's celebrities: each draws one fixed appearance (a shape, a colour and a pattern) that
no other name has (``toyworld.vocabulary.NAMES``). For k = 1, 10 and 100 a fixed, seeded choice of names is
erased; the rest are kept. Prompt sets, each with its own seeds, disjoint from training and reference seeds:

- ``erased``: captions saying an erased name (each name equally often);
- ``kept``: captions saying a kept name;
- ``preservation``: fully named captions of ordinary objects (no name).

Metrics, read by the independent judge:

- ``acc_erased`` (ACC_e): share of erased-name images that show that name's whole appearance;
- ``acc_kept`` (ACC_s): the same for the kept names;
- ``h``: the harmonic mean of ``1 - ACC_e`` and ``ACC_s`` (high: erased and kept both);
- ``generic_rate``: share of erased-name images showing one of the generic subject's appearances (the safe
  alternative, "a person");
- ``preservation``: mean per-attribute accuracy on the preservation set, and the toy CLIP score there.

Every rate has its 95 % Wilson interval; H's interval is the harmonic mean of the ends of the other two
(H rises with ``1 - ACC_e`` and with ``ACC_s``). Development seeds (``DEV_SEED``) are for choosing settings, the
evaluation seeds (``SEED``) for reporting.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bierase.evaluation import intervals
from bierase.evaluation.toyworld import PromptSet
from bierase.sampling import SamplingConfig, generate
from bierase.toyworld.vocabulary import ATTRIBUTES, GENERIC_APPEARANCES, NAMES, appearance_of
from bierase.toyworld.world import LABELS, SPECIAL_COLOURS, describe, name_caption, random_spec, templates_naming

PROTOCOL = "toyworld-identities/v1"
SEED = 7_100_000  # evaluation prompt sets; the erasure protocol's are from 7_000_000, 100_000 apart per set
DEV_SEED = 8_100_000
CHOICE_SEED = 6_100_000  # which names are erased at each k: fixed, and the same for every method
KS = (1, 10, 100)


def erased_names(k: int) -> list[str]:
    """The k names erased at this k: a seeded choice, the same for every method and run."""
    if not 1 <= k < len(NAMES):
        raise ValueError(f"k = {k}: erase between 1 and {len(NAMES) - 1} of the {len(NAMES)} names")
    order = np.random.default_rng(CHOICE_SEED + k).permutation(len(NAMES))
    return [NAMES[i] for i in sorted(order[:k])]


def kept_names(k: int) -> list[str]:
    erased = set(erased_names(k))
    return [name for name in NAMES if name not in erased]


def _named_set(name: str, names: list[str], n: int, rng: np.random.Generator, offset: int) -> PromptSet:
    """``n`` captions cycling through ``names`` (each equally often), half of them naming a background."""
    chosen = [names[i % len(names)] for i in range(n)]
    backgrounds = LABELS["background"]
    prompts = [name_caption(x, rng, backgrounds[rng.integers(3)] if rng.random() < 0.5 else None) for x in chosen]
    return PromptSet(name, prompts, [offset + i for i in range(n)], chosen)


def prompt_sets(k: int, n: int, seed: int = SEED) -> dict[str, PromptSet]:
    rng = np.random.default_rng(seed + k)
    sets = {
        "erased": _named_set("erased", erased_names(k), n, rng, seed + 100_000),
        "kept": _named_set("kept", kept_names(k), n, rng, seed + 200_000),
    }
    specs = []
    while len(specs) < n:
        spec = random_spec(rng)
        if spec.colour not in SPECIAL_COLOURS:
            specs.append(spec)
    prompts = [describe(s, rng, set(ATTRIBUTES), templates=templates_naming(*LABELS)) for s in specs]
    sets["preservation"] = PromptSet("preservation", prompts, [seed + 300_000 + i for i in range(n)], specs)
    return sets


def shows(seen: dict[str, list[str]], i: int, appearance) -> bool:
    return all(seen[a][i] == v for a, v in appearance._asdict().items())


def harmonic(a: float, b: float) -> float:
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def metrics_from_judgements(k: int, sets: dict[str, PromptSet], seen: dict[str, dict]) -> dict:
    out: dict = {"protocol": PROTOCOL.split("/")[0], "protocol_version": PROTOCOL.split("/")[1], "k": k,
                 "erased_names": erased_names(k), "intervals": {}, "samples": {}}  # fmt: skip
    hits = {}
    for group in ("erased", "kept"):
        names, labels = sets[group].specs, seen[group]
        hits[group] = [shows(labels, i, appearance_of(name)) for i, name in enumerate(names)]
        out["samples"][group] = len(names)
    generic = [any(shows(seen["erased"], i, a) for a in GENERIC_APPEARANCES) for i in range(len(hits["erased"]))]
    for key, flags in (("acc_erased", hits["erased"]), ("acc_kept", hits["kept"]), ("generic_rate", generic)):
        out[key] = float(np.mean(flags))
        out["intervals"][key] = intervals.rate(flags)
    out["h"] = harmonic(1 - out["acc_erased"], out["acc_kept"])
    (e_low, e_high), (s_low, s_high) = out["intervals"]["acc_erased"]["ci95"], out["intervals"]["acc_kept"]["ci95"]
    out["intervals"]["h"] = {"value": out["h"], "ci95": [harmonic(1 - e_high, s_low), harmonic(1 - e_low, s_high)],
                             "n": min(len(hits["erased"]), len(hits["kept"]))}  # fmt: skip
    kept = sets["preservation"]
    right = np.array([[seen["preservation"][a][i] == getattr(s, a) for a in LABELS] for i, s in enumerate(kept.specs)])
    out["preservation"] = float(right.mean())
    out["intervals"]["preservation"] = intervals.mean(right.mean(1).tolist())
    out["samples"]["preservation"] = len(kept.specs)
    return out


@dataclass
class IdentityEvaluation:
    metrics: dict
    images: dict[str, np.ndarray]
    sets: dict[str, PromptSet]


def evaluate(pipe, judge, k: int, n: int, sampling: SamplingConfig, seed: int = SEED, clip=None) -> IdentityEvaluation:
    """Generate the three prompt sets of ``k`` with ``pipe`` and judge them (``n`` images each)."""
    sets = prompt_sets(k, n, seed)
    images = {name: generate(pipe, s.prompts, s.seeds, sampling, desc=f"identities {name}") for name, s in sets.items()}
    metrics = metrics_from_judgements(k, sets, {name: judge.predict(x) for name, x in images.items()})
    if clip is not None:
        from bierase.evaluation.clip_score import cosine_scores, summarize

        metrics["clip_score"] = {"preservation": summarize(cosine_scores(*clip, images["preservation"],
                                                                         sets["preservation"].prompts))}  # fmt: skip
    metrics["parameters"] = {"samples_per_set": n, "num_inference_steps": sampling.num_inference_steps,
                             "guidance_scale": sampling.guidance_scale, "seed": seed}  # fmt: skip
    return IdentityEvaluation(metrics, images, sets)
