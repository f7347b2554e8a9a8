"""The model card (README.md) of a built toy world."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bierase.toyworld.quality import PROTOCOL
from bierase.toyworld.vocabulary import (
    ATTRIBUTES,
    CAPTION_TEMPLATES,
    GENERIC_APPEARANCES,
    GENERIC_SUBJECT,
    GLUE_WORDS,
    IMPLICIT_TRIGGERS,
    NAME_APPEARANCES,
    SCENARIOS,
    SUBJECT_TEMPLATES,
    TRIGGER_TEMPLATES,
)

RECIPE = """\
| part | what | trained how |
| --- | --- | --- |
| `vae/` | `AutoencoderKL`, 32x32 RGB <-> 16x16x4 | L1 reconstruction + 1e-6 KL on renders; `scaling_factor` = 1 / latent std |
| `text_encoder/`, `image_encoder/` | one small CLIP (`CLIPTextModel`, `CLIPVisionModelWithProjection`) | contrastive on captions and renders, identical captions counted as matches |
| `clip/` | the whole small CLIP (`CLIPModel` + `CLIPProcessor`) the two encoders above come from | the same training; kept for the toy CLIP score (evaluation) |
| `tokenizer/` | `CLIPTokenizer`, byte-level BPE whose merges are learnt on the world's words | every world word is one token; any text still tokenizes |
| `unet/` | `UNet2DConditionModel` (3 blocks, 2 with cross-attention) | epsilon prediction on VAE latents with Min-SNR-5 weights, SD1 `scaled_linear` schedule, 10 % empty captions, EMA 0.999 |
| `scheduler/` | `DDIMScheduler`, `timestep_spacing="trailing"` | - |
| `ip_adapter.safetensors` | IP-Adapter (4 image tokens) | UNet frozen; only the image projection and `to_k_ip`/`to_v_ip` (initialised from the text K/V) train; 50 % empty text, 10 % empty image |
| `segmenter/` | `CLIPSegForImageSegmentation` + `CLIPSegProcessor` | BCE on the renderer's masks, prompted with a word naming the object |
| `judge/` | a CNN with one head per attribute (`bierase.toyworld.judge.Judge`) | cross-entropy on renders with blur and noise; never sees generated images; evaluation only |
"""


def _words(values: dict[str, tuple[str, ...]]) -> str:
    return "; ".join(f"**{value}**: {', '.join(words)}" for value, words in values.items())


def write_model_card(out: Path, config, quality, timings: dict[str, float]) -> Path:
    lines = [
        "# bierase toy world",
        "",
        "A small text-to-image model family trained on rendered shapes, in Stable Diffusion's",
        "diffusers layout, with an IP-Adapter, a CLIPSeg segmenter and an independent judge.",
        "It exists so that every part of Bi-Erasing runs for real on a CPU and is judged",
        "against ground truth. Rebuild it with `bierase toyworld build --output_dir DIR`.",
        "",
        "```python",
        "from diffusers import StableDiffusionPipeline",
        "",
        "pipe = StableDiffusionPipeline.from_pretrained(path)  # path = `bierase toyworld path`",
        'pipe.load_ip_adapter(path, subfolder="", weight_name="ip_adapter.safetensors")',
        "```",
        "",
        "## Measured quality",
        "",
        f"Judged on generated images, at least {quality.samples} samples per figure (prompted colour and shape",
        "on every prompted image, pattern on those of an ordinary colour; identity on",
        f"{quality.identity_samples} named prompts, every name equally often), fixed evaluation seeds",
        f"(protocol `{PROTOCOL}`, sampler: DDIM trailing, {config.sampling.num_inference_steps} steps,",
        f"guidance {config.sampling.guidance_scale}).",
        "",
        "| figure | measured | required |",
        "| --- | --- | --- |",
    ]
    names = {
        "colour": "prompted colour correct", "shape": "prompted shape correct",
        "pattern": "prompted pattern correct", "triggers": "implicit trigger shows its attribute",
        "ip_transfer": "image prompt (no text) transfers colour and shape",
        "segmenter_iou": "segmenter IoU, held-out renders", "judge": "judge joint accuracy, held-out renders",
        "identity": "named prompt shows its name's shape, colour and pattern",
    }  # fmt: skip
    for key, label in names.items():
        value = getattr(quality, key)
        shown = f"{value:.3f}" if key == "segmenter_iou" else f"{100 * value:.1f} %"
        required = quality.REQUIRED[key]
        need = f">= {required}" if key == "segmenter_iou" else f">= {100 * required:.0f} %"
        lines.append(f"| {label} | {shown} | {need} |")
    lines += ["", "## How each part was trained", "", RECIPE, "Recipe (seeded, resolved):", "", "```"]
    lines += [f"{k} = {v}" for k, v in dataclasses.asdict(config).items()]
    lines += ["```", "", "Seconds per stage on the machine that built it: "]
    lines[-1] += ", ".join(f"{k} {v}" for k, v in timings.items())
    lines += ["", "## Vocabulary", ""]
    for attribute, values in ATTRIBUTES.items():
        lines.append(f"- {attribute}: {_words(values)}")
    lines.append("- implicit triggers (never name their attribute, always co-occur with it): "
                 + "; ".join(f"**{w}** -> {a} {v}" for w, (a, v) in IMPLICIT_TRIGGERS.items()))  # fmt: skip
    lines.append(f"- other words: {', '.join(GLUE_WORDS)}")
    lines += ["", "Caption templates (any attribute may be left out):", ""]
    lines += [f"- `{t}`" for t in CAPTION_TEMPLATES]
    lines += [f"- `{t}` (trigger for {a})" for a, ts in TRIGGER_TEMPLATES.items() for t in ts]
    lines += [f"- `{t}` (a name, or `a {GENERIC_SUBJECT}`)" for t in SUBJECT_TEMPLATES]
    lines += [
        "",
        "## Names",
        "",
        f"{len(NAME_APPEARANCES)} made-up names (`bierase.toyworld.vocabulary.NAMES`), each bound to one appearance",
        "no other name shares; a caption that says a name never says its shape, colour or pattern.",
        f"The generic subject **{GENERIC_SUBJECT}** (`a photo of a {GENERIC_SUBJECT}`) draws the appearances bound to no name:",
        ", ".join(" ".join(a) for a in GENERIC_APPEARANCES) + f"; {config.name_rate:.0%} of the training captions",
        "say a name or the generic subject, every one of the 144 appearances equally often.",
        "",
        "| name | shape | colour | pattern |",
        "| --- | --- | --- | --- |",
    ]
    lines += [f"| {name} | {a.shape} | {a.colour} | {a.pattern} |" for name, a in NAME_APPEARANCES.items()]
    lines += [
        "",
        "## Erasure scenarios",
        "",
        "| name | mirrors | erase | steer to | trigger words |",
        "| --- | --- | --- | --- | --- |",
    ]
    for s in SCENARIOS.values():
        lines.append(
            f"| {s.name} | {s.kind} | {s.attribute} {s.target} ({', '.join(s.target_words)}) "
            f"| {s.safe} ({', '.join(s.safe_words)}) | {', '.join(s.triggers) or '-'} |"
        )
    path = out / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path
