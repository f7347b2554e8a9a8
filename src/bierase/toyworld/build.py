"""The seeded recipe that builds the whole toy world into one folder.

Layout (what ``bierase toyworld path`` points at)::

    model_index.json  unet/  vae/  text_encoder/  tokenizer/  scheduler/
    feature_extractor/  image_encoder/      <- a StableDiffusionPipeline
    ip_adapter.safetensors                  <- pipe.load_ip_adapter(path, subfolder="", weight_name=...)
    clip/                                   <- CLIPModel + CLIPProcessor: the toy CLIP score (evaluation)
    segmenter/                              <- CLIPSegForImageSegmentation + CLIPSegProcessor
    judge/                                  <- bierase.toyworld.judge.Judge (evaluation only)
    README.md  build.json                   <- model card, resolved recipe + versions
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import DDIMScheduler, StableDiffusionPipeline

from bierase.errors import UserError
from bierase.folders import new_output_dir
from bierase.runinfo import write_run_info
from bierase.sampling import SamplingConfig
from bierase.toyworld.card import write_model_card
from bierase.toyworld.load import IP_ADAPTER_WEIGHTS, load_judge, load_pipeline, load_segmenter
from bierase.toyworld.pool import render_pool
from bierase.toyworld.quality import measure
from bierase.toyworld.tokenizer import build_tokenizer
from bierase.toyworld.train.clip import image_processor, save_clip, train_clip
from bierase.toyworld.train.ip_adapter import save_ip_adapter, train_ip_adapter
from bierase.toyworld.train.judge import train_judge
from bierase.toyworld.train.segmenter import segmenter_processor, train_segmenter
from bierase.toyworld.train.unet import noise_scheduler, train_unet
from bierase.toyworld.train.vae import train_vae
from bierase.toyworld.vocabulary import all_words


@dataclass(frozen=True)
class BuildConfig:
    seed: int = 0
    pool_size: int = 40_000
    # share of training captions that say a name or the generic subject (``world.subject_pair``): each
    # of the 144 appearances then has ~55 of the 40k renders and ~90 UNet samples per 1000 steps
    # A reduced fp32 trial (CLIP 1500 steps, UNet 2000 x 32, 20k pool) learnt names about as well as
    # attributes: identity 50 % against 52 % for fully prompted ordinary captions (shape 84 % vs 91 %).
    name_rate: float = 0.2
    vae_steps: int = 1200
    vae_batch_size: int = 32
    clip_steps: int = 3000
    clip_batch_size: int = 128
    unet_steps: int = 3000  # 2600 before names: +15 % for the 20 % of captions they take
    unet_width: int = 48
    ip_adapter_steps: int = 1000
    segmenter_steps: int = 1500
    judge_steps: int = 600
    batch_size: int = 64
    quality_samples: int = 200
    sampling: SamplingConfig = SamplingConfig()

    @classmethod
    def smoke(cls) -> BuildConfig:
        """Seconds long: every stage runs for real, nothing is learnt."""
        return cls(
            pool_size=64, vae_steps=2, vae_batch_size=8, clip_steps=2, clip_batch_size=8, unet_steps=2, unet_width=32, ip_adapter_steps=2,
            segmenter_steps=2, judge_steps=2, batch_size=8, quality_samples=4,
            sampling=SamplingConfig(num_inference_steps=2, batch_size=8),
        )  # fmt: skip

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, int) and field.name != "seed" and value < 1:
                raise UserError(f"build option {field.name}={value} is out of range; it must be >= 1")
        if not 0 <= self.name_rate < 1:
            raise UserError(f"build option name_rate={self.name_rate} is out of range; it must be in [0, 1)")


def build(output_dir: str | Path, config: BuildConfig = BuildConfig()) -> Path:
    """Train every model of the toy world and write the folder; returns it.

    Builds into a temporary sibling folder and renames it at the end, so an
    interrupted build leaves nothing half-written behind.
    """
    out = new_output_dir(output_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _build_into(work, config)
        if out.exists():
            out.rmdir()
        work.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return out


def _build_into(out: Path, config: BuildConfig) -> None:
    timings: dict[str, float] = {}
    seed = config.seed

    def timed(name, fn, *args, **kwargs):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        timings[name] = round(time.perf_counter() - start, 1)
        return result

    torch.manual_seed(seed)
    pool = timed("render", render_pool, config.pool_size, seed, name_rate=config.name_rate)
    tokenizer = timed("tokenizer", build_tokenizer, all_words())
    bs = config.batch_size
    vae = timed("vae", train_vae, pool, config.vae_steps, config.vae_batch_size, seed + 1)
    text_encoder, image_encoder, clip = timed(
        "clip", train_clip, pool, tokenizer, config.clip_steps, config.clip_batch_size, seed + 2
    )
    unet = timed(
        "unet", train_unet, pool, vae, text_encoder, tokenizer, config.unet_steps, bs, seed + 3, config.unet_width
    )
    scheduler = DDIMScheduler.from_config(
        noise_scheduler().config, timestep_spacing="trailing", steps_offset=1, set_alpha_to_one=False
    )
    pipe = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=None, feature_extractor=image_processor(), image_encoder=image_encoder,
        requires_safety_checker=False,
    )  # fmt: skip
    pipe.set_progress_bar_config(disable=True)
    pipe.save_pretrained(out)  # before the adapter is attached: the base pipeline stays plain
    save_clip(clip, tokenizer, out / "clip")
    timed("ip_adapter", train_ip_adapter, pipe, pool, config.ip_adapter_steps, bs, seed + 4)
    save_ip_adapter(pipe, str(out / IP_ADAPTER_WEIGHTS))

    segmenter = timed("segmenter", train_segmenter, pool, tokenizer, config.segmenter_steps, bs, seed + 5)
    seg_processor = segmenter_processor(tokenizer)
    segmenter.save_pretrained(out / "segmenter")
    seg_processor.save_pretrained(out / "segmenter")
    judge = timed("judge", train_judge, pool, config.judge_steps, bs, seed + 6)
    judge.save_pretrained(out / "judge")

    _measure_and_record(out, config, timings)


def remeasure(folder: str | Path) -> dict[str, float]:
    """Measure a built folder's quality again (after a fix to the measurement) and rewrite its card.

    The recipe and training timings recorded at build time are kept; only the quality figures change.
    """
    out = Path(folder)
    record = out / "build.json"
    if not record.is_file():
        raise UserError(f"{out} has no build.json; pass a folder written by `bierase toyworld build`")
    info = json.loads(record.read_text())
    recipe = dict(info["config"])
    config = BuildConfig(**{**recipe, "sampling": SamplingConfig(**recipe["sampling"])})
    timings = {k: v for k, v in info["timings_s"].items() if k != "quality"}
    return _measure_and_record(out, config, timings)


def _measure_and_record(out: Path, config: BuildConfig, timings: dict[str, float]) -> dict[str, float]:
    # measured on the saved folder, loaded the way users load it
    text_pipe, image_pipe = load_pipeline(out), load_pipeline(out, ip_adapter=True)
    segmenter, seg_processor = load_segmenter(out)
    start = time.perf_counter()
    quality = measure(
        text_pipe, image_pipe, load_judge(out), segmenter, seg_processor, config.quality_samples, config.sampling
    )
    timings = {**timings, "quality": round(time.perf_counter() - start, 1)}
    write_run_info(out, config, name="build.json", timings_s=timings, quality=dataclasses.asdict(quality))
    write_model_card(out, config, quality, timings)
    return dataclasses.asdict(quality)
