"""A trained method's run, from checked options to saved weights, in one direction.

1. Check everything that can be checked without a model: options, paths, a resumed run's stored
   options, the output folder (``--overwrite`` replaces the previous run's files only here, last).
2. Write ``config.yaml``; load the pipeline; encode the texts the objective's conditions name.
3. Make the reference sets they name (generated, masked, encoded; the IP-Adapter attached).
4. Train (``Trainer``), stopping before anything is saved if it diverges.
5. Save the UNet (or LoRA) and, last, ``bierase.json``: the mark of a finished run.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from accelerate import Accelerator

from bierase.erasing.conditions import encode_texts
from bierase.erasing.image_sets import prepare_image_sets
from bierase.erasing.model_loading import (
    check_init_unet,
    check_ip_adapter_source,
    check_model_source,
    load_base_pipeline,
)
from bierase.erasing.objective import Term, image_sets_of, texts_of
from bierase.erasing.outputs import CONFIG_FILE, RUN_FILE, prepare_run_dir
from bierase.erasing.preservation import PreservationTerm
from bierase.erasing.saving import save_lora, save_pipeline_folder, save_unet
from bierase.erasing.trainer import Trainer
from bierase.erasing.training_config import RESUMABLE, TrainingConfig
from bierase.errors import UserError
from bierase.references import reference_files
from bierase.runinfo import write_run_info
from bierase.toyworld.words import warn_unknown_words

ROLLOUT_TEXTS = ("empty", "concept")  # the rollout samples with the concept's prompt under guidance


def check_before_loading(config: TrainingConfig, method: str) -> Path:
    """Everything that can be checked without loading a model; returns the output folder."""
    config.check_fields()
    config.validate()
    config.require_run_fields()
    check_model_source(config.pretrained_model_name_or_path)
    for spec in config.image_sets():
        for folder in spec.folders:
            reference_files(folder, f"--{spec.name}_images")
    if config.uses_images():
        source = config.ip_adapter or config.pretrained_model_name_or_path
        check_ip_adapter_source(
            source, config.ip_adapter_subfolder, config.ip_adapter_weight_name, config.pretrained_model_name_or_path
        )
    check_init_unet(config.init_unet)
    warn_unknown_words([p for texts in config.prompts().values() for p in texts], config.pretrained_model_name_or_path)
    if config.mixed_precision == "fp16" and not torch.cuda.is_available():
        raise UserError("--mixed_precision fp16 needs a CUDA GPU; use bf16 or no on this machine")
    out = prepare_run_dir(config.output_dir, config.resume, config.overwrite)
    if config.resume:
        check_resumable(config, method, out)
    return out


def check_resumable(config: TrainingConfig, method: str, out: Path) -> None:
    """A resumed run computes what the stored one did: only the options in ``RESUMABLE`` may differ."""
    stored = type(config)(**type(config).read_yaml(out / CONFIG_FILE, method))
    changed = [name for name in config.frozen_on_resume() if getattr(stored, name) != getattr(config, name)]
    if changed:
        name = changed[0]
        raise UserError(
            f"--resume: --{name} is {getattr(stored, name)!r} in the run in {out}, not {getattr(config, name)!r}; "
            f"only {', '.join(RESUMABLE[:-2])} may change (start a new run with --overwrite to change it)"
        )


def erase(config: TrainingConfig, terms: list[Term], method: str) -> Path:
    """Train ``terms`` (a method's objective) on ``config``; returns the output folder."""
    out = check_before_loading(config, method)
    finished = (out / RUN_FILE).is_file()  # a resumed, finished run stays loadable until its new weights exist
    config.save_yaml(out / CONFIG_FILE, method)
    if config.preserve_prompts:
        terms = [*terms, PreservationTerm(config.lambda_preserve)]
    accelerator = Accelerator(mixed_precision=config.mixed_precision, dynamo_backend=config.dynamo_backend or None)
    pipe = load_base_pipeline(config.pretrained_model_name_or_path, accelerator.device)
    base_unet_config = dict(pipe.unet.config)

    prompts = config.prompts()
    texts = encode_texts(pipe, {key: prompts[key] for key in dict.fromkeys([*ROLLOUT_TEXTS, *texts_of(terms)])})
    names = image_sets_of(terms)
    image_sets = prepare_image_sets(pipe, config, names, out) if names else None

    trainer = Trainer(pipe, terms, texts, image_sets, config, accelerator, method)
    started = time.perf_counter()
    state = trainer.train(out, finished)
    seconds = round(time.perf_counter() - started, 1)

    (out / RUN_FILE).unlink(missing_ok=True)  # the old mark goes before its weights are replaced
    student = trainer.unwrapped(trainer.student)
    saved = save_lora(student, out, type(pipe)) if config.lora_rank else save_unet(student, base_unet_config, out)
    if config.save_pipeline:
        save_pipeline_folder(config.pretrained_model_name_or_path, out, lora=bool(config.lora_rank))
    last = state.history[-min(len(state.history), 20) :]
    write_run_info(
        out, config, name=RUN_FILE, method=method, concept=config.concept,
        positive_concept=prompts.get("positive"), base_model=config.pretrained_model_name_or_path,
        weights=saved.name, steps=state.step, seconds=seconds,
        final_losses={key: sum(h[key] for h in last) / len(last) for key in last[-1] if key != "step"},
        losses=state.history, segments=state.segments, references=image_sets.record if image_sets else {},
    )  # fmt: skip
    return out
