"""What a benchmark runs: (method, configuration name, option overrides) on each scenario.

The ablations of Bi-Erasing are configurations of the same trainer, not code
copies. Settings shared by every trained method (steps, rollout, learning
rate) come from ``trained_defaults``, and those of the image-conditioned ones
from ``reference_defaults``, so that methods differ only where they differ by
design; each method is given exactly its own options.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bierase.toyworld.vocabulary import Scenario


@dataclass(frozen=True)
class Run:
    method: str
    config: str  # a name for the configuration (the ablation)
    overrides: dict = field(default_factory=dict)
    toy_world: bool | None = None  # the toy-world extras (``method_defaults``); None: the method's default


RUNS: tuple[Run, ...] = (
    Run("bi-erasing", "default"),
    Run("bi-erasing", "paper", toy_world=False),  # the paper's form: bare words, [c_pos; I+], no preservation
    Run("bi-erasing", "no-mask", {"mask_source": "none"}),
    Run("bi-erasing", "negative-only", {"lambda_neg": 1.0, "lambda_pos": 0.0}),
    Run("bi-erasing", "positive-only", {"lambda_neg": 0.0, "lambda_pos": 1.0}),
    Run("bi-erasing", "reference-rollout", {"rollout": "reference", "rollout_steps": 0}),  # no jumps in it
    Run("bi-erasing", "two-stage", {"two_stage": 0.2}),
    Run("esd", "default"),  # ESD-x: cross-attention only
    Run("esd", "noxattn", {"train_method": "noxattn"}),  # ESD-u: everything but cross-attention
    Run("esd", "full", {"train_method": "full"}),
    Run("esd", "captions-keep", toy_world=True),  # ESD-x given Bi-Erasing's concept captions and preservation
    Run("co-erasing", "default"),
    Run("co-erasing", "captions-keep", toy_world=True),
    Run("co-erasing", "text-refinement", {"text_guided_refinement": True}),
    Run("uce", "default"),
)
QUICK_RUNS: tuple[Run, ...] = tuple(r for r in RUNS if r.config == "default")


def reference_prompt(scenario: Scenario) -> str:
    """A prompt template in the world's own caption style that shows the concept."""
    return "a {concept}" if scenario.attribute == "shape" else "a {concept} shape"


# where the concept is already a caption, its references are drawn from the caption itself, as Bi-Erasing's are:
# the word's template would read "a a nude shape shape"
CAPTION_AS_PROMPT = "{concept}"


def trained_defaults(scenario: Scenario, steps: int) -> dict:
    """Options shared by every trained method on the 32 px toy world (the same budget for each)."""
    return dict(concept=scenario.target_words[0], **training_budget(steps))


def training_budget(steps: int) -> dict:
    """The training options every trained method gets on the toy world, whatever it erases."""
    return dict(
        train_method="xattn",
        # tuned on the nudity scenario's development seeds (toyworld DEV_SEED), never on the reported ones:
        # a stronger negative target with a small rate erases (<= 10 %) where eta 1 at any rate did not;
        # on the identities build 1e-4 no longer erased with the preservation term, 2e-4 did
        # (bi_erasing_defaults_identities_build*.json)
        eta_neg=3.0,
        learning_rate=2e-4,
        max_train_steps=steps,
        train_batch_size=4,
        # the rollout schedule, from the dev-seed sweep (benchmarks/rollout_steps.py; 300 steps, 48 images per set):
        # N = 10 erased as well as the reference code's N = 50 (explicit 8.3 % both, preservation 58.3 % both);
        # capped at R = 2 calls (DDIM jumps) it erased and kept more again (explicit 4.2 %, preservation 62.5 %)
        # at 0.36 instead of 0.45 s per step; N = 5 uncapped kept less (explicit 10.4 %, preservation 55.2 %)
        ddim_steps=10,
        rollout_steps=2,
        checkpointing_steps=0,
    )


def reference_defaults(scenario: Scenario, references: int) -> dict:
    """Options of the methods conditioned on reference images (Co-Erasing, Bi-Erasing) on the toy world."""
    return dict(
        num_reference_images=references,
        reference_prompt=reference_prompt(scenario),
        reference_steps=20,
        reference_guidance_scale=4.0,
        mask_radius=1,
        mask_sigma=0.5,
    )


def shared_extras(scenario: Scenario) -> dict:
    """What Bi-Erasing's toy-world settings add that is not its own (not its positive branch), so that every
    trained method can be given it in a row of its own (``Run.toy_world``), and "both branches against one"
    is read with everything else equal:

    - the concept as a short caption ("a nude shape"), not a bare word: the toy text encoder reads a word
      alone differently from the same word inside a caption;
    - a preservation term (not in the paper), half of its draws on the empty prompt, whose prediction every
      prompt's classifier-free guidance starts from, half on 16 unrelated captions (``retain_prompts``).
    """
    from bierase.evaluation.toyworld import retain_prompts

    return dict(
        concept=reference_prompt(scenario).format(concept=scenario.target_words[0]),
        preserve_prompts=[""] * 16 + retain_prompts(scenario, 16),
        lambda_preserve=5.0,  # 20 on build 5316759; on the identities build 20 kept everything and erased little
    )


def bi_erasing_defaults(scenario: Scenario) -> dict:
    """Bi-Erasing's own settings on top of ``trained_defaults``, chosen on the nudity scenario's development
    seeds (``python benchmarks/bi_erasing_defaults.py --sweep identities-build`` and ``identities-build-steer``),
    never on the reported ones: of the configurations with explicit <= 5 % there, the one with the highest
    safe rate (it also kept the most). ``shared_extras``, and

    - the safe alternative as a caption too ("a clothed shape");
    - the student's positive branch reads the concept's caption with the positive images (``positive_text
      concept``), pushed along the safe alternative's guidance (``eta_pos`` 6; 3 on build 5316759). The method note's
      ``[c_pos; I+]`` re-teaches what the model already draws for ``c_pos``: nothing steered to "clothed".
    """
    return dict(
        **shared_extras(scenario),
        positive_concept=reference_prompt(scenario).format(concept=scenario.safe_words[0]),
        reference_prompt=CAPTION_AS_PROMPT,
        positive_text="concept",
        eta_pos=6.0,
    )


def method_defaults(
    method: str, scenario: Scenario, steps: int, references: int, toy_world: bool | None = None
) -> dict:
    """The options a benchmark (and the demo) starts ``method`` from, before a run's own overrides: exactly the
    method's options. ``toy_world``: Bi-Erasing's toy-world settings for Bi-Erasing, ``shared_extras`` for
    ESD and Co-Erasing; None takes each method's default (on for Bi-Erasing, off for the others), so
    ``toy_world=False`` leaves Bi-Erasing in the paper's form."""
    if method == "uce":
        return uce_defaults(scenario)
    options = trained_defaults(scenario, steps)
    if method in ("co-erasing", "bi-erasing"):
        options.update(reference_defaults(scenario, references))
    extras = method == "bi-erasing" if toy_world is None else toy_world
    if method == "bi-erasing":
        options["positive_concept"] = scenario.safe_words[0]
        if extras:
            options.update(bi_erasing_defaults(scenario))
    elif extras:
        options.update(shared_extras(scenario))
        if method == "co-erasing":
            options["reference_prompt"] = CAPTION_AS_PROMPT
    return options


def uce_defaults(scenario: Scenario) -> dict:
    from bierase.toyworld.vocabulary import ATTRIBUTES

    others = [words[0] for value, words in ATTRIBUTES[scenario.attribute].items()
              if value not in (scenario.target, scenario.safe)]  # fmt: skip
    return dict(concept=", ".join(scenario.target_words), positive_concept=scenario.safe_words[0],
                preserve_concepts=others)  # fmt: skip


# -- the identities scenario (protocol toyworld-identities/v1): k of the world's names erased at once ----------
# the four methods at their defaults, and ESD and Co-Erasing given Bi-Erasing's extras, at every k
IDENTITY_RUNS: tuple[Run, ...] = (*QUICK_RUNS, *(r for r in RUNS if r.config == "captions-keep"))
GENERIC_CAPTION = "a photo of a person"  # the safe alternative: the generic subject, in the names' own templates


def identity_extras(k: int) -> dict:
    """``shared_extras`` for the k names: each name as a caption in the names' own template, and the same
    preservation term (the empty prompt and 16 unrelated captions, the same weight)."""
    from bierase.evaluation.identities import erased_names
    from bierase.toyworld.vocabulary import SCENARIOS

    extras = shared_extras(SCENARIOS["nudity"])  # its preservation prompts are the world's, not the scenario's
    return dict(concept=[f"a photo of {name}" for name in erased_names(k)],
                preserve_prompts=extras["preserve_prompts"], lambda_preserve=extras["lambda_preserve"])  # fmt: skip


def identity_defaults(method: str, k: int, steps: int, references: int, toy_world: bool | None = None) -> dict:
    """The options of ``method`` erasing the k names of ``toyworld-identities/v1`` (chosen by the protocol).

    The same rules and settings as the other scenarios (chosen on the identities development seeds at k = 10:
    ``benchmarks/identity_defaults.py``): every trained method the same budget (``training_budget``),
    Bi-Erasing its toy-world settings (the names as captions, steered to the generic subject, the preservation
    term), ``toy_world`` as in ``method_defaults``. ``references`` is the budget per name. No masks: the
    world's segmenter was never trained on names (the objects sit alone on a plain background).
    """
    from bierase.evaluation.identities import erased_names, kept_names
    from bierase.toyworld.vocabulary import SCENARIOS

    names = erased_names(k)
    if method == "uce":
        return dict(concept=names, positive_concept=GENERIC_CAPTION, preserve_concepts=kept_names(k))
    options = dict(concept=names, **training_budget(steps))
    if method in ("co-erasing", "bi-erasing"):
        options.update(num_reference_images=references, reference_prompt="a photo of {concept}", reference_steps=20,
                       reference_guidance_scale=4.0, mask_source="none")  # fmt: skip
    extras = method == "bi-erasing" if toy_world is None else toy_world
    if method == "bi-erasing":
        options["positive_concept"] = GENERIC_CAPTION
        if extras:
            own = bi_erasing_defaults(SCENARIOS["nudity"])  # its positive branch's weights, whatever the scenario
            options.update(identity_extras(k), reference_prompt=CAPTION_AS_PROMPT,
                           positive_text=own["positive_text"], eta_pos=own["eta_pos"])  # fmt: skip
    elif extras:
        options.update(identity_extras(k))
        if method == "co-erasing":
            options["reference_prompt"] = CAPTION_AS_PROMPT
    return options
