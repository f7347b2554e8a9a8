"""The Bi-Erasing training run: inputs checked, references prepared, the UNet erased, outputs written.

One iteration (method note, section 3): draw a step k of the N-step schedule,
roll the student out from noise to ``z_t``, run the four teacher conditions as
one batch and the two student conditions as one batch, and take one optimizer
step on ``lambda_neg * L_neg + lambda_pos * L_pos``. All randomness comes from
one seeded generator whose state is checkpointed, so ``--resume`` ends at the
same weights as an uninterrupted run.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from accelerate import Accelerator
from tqdm.auto import tqdm

from bierase.erasing.checkpoint import Checkpoint, latest_checkpoint, load_checkpoint, save_checkpoint
from bierase.erasing.model_loading import (
    attach_ip_adapter,
    check_ip_adapter_source,
    check_model_source,
    load_base_pipeline,
    load_clipseg,
)
from bierase.erasing.outputs import (
    CONFIG_FILE,
    RUN_FILE,
    prepare_output_dir,
    save_lora,
    save_pipeline_folder,
    save_unet,
)
from bierase.erasing.parameters import lora_target_modules, select_parameters
from bierase.erasing.rollout import check_jumps, rollout, rollout_scheduler
from bierase.errors import UserError
from bierase.methods.bi_erasing.conditions import (
    TextConditions,
    encode_images,
    encode_prompts,
    encode_texts,
    image_branch_off,
    unet_inputs,
)
from bierase.methods.bi_erasing.config import BiErasingConfig
from bierase.methods.bi_erasing.loss import bi_erasing_loss, branch_weights, with_preservation
from bierase.methods.bi_erasing.references import check_reference_folders, masked_images, reference_set
from bierase.methods.co_erasing.refinement import attach_refinement
from bierase.runinfo import write_run_info

EXPLODE_FACTOR = 1e3  # a loss this many times the largest one so far means the run has diverged
LOSS_FLOOR = 1e-2  # the scale below which losses are "small": a run that starts at 0 (student == teacher) is fine


def diverged(value: float, largest: float) -> bool:
    """Not finite, or orders of magnitude above every loss seen so far (never judged against a ~0 start)."""
    return not math.isfinite(value) or value > EXPLODE_FACTOR * max(largest, LOSS_FLOOR)


class TrainingDiverged(UserError):
    pass


def check_before_loading(config: BiErasingConfig) -> Path:
    """Everything that can be checked without loading a model; returns the output folder."""
    config.validate()
    config.require_run_fields()
    check_model_source(config.pretrained_model_name_or_path)
    check_reference_folders(config)
    if config.image_conditioning:
        check_ip_adapter_source(
            config.ip_adapter or config.pretrained_model_name_or_path, config.ip_adapter_subfolder,
            config.ip_adapter_weight_name,
        )  # fmt: skip
    if config.init_unet and not (Path(config.init_unet) / "config.json").is_file():
        raise UserError(f"--init_unet {config.init_unet} is not a diffusers unet/ folder (no config.json)")
    if config.mixed_precision == "fp16" and not torch.cuda.is_available():
        raise UserError("--mixed_precision fp16 needs a CUDA GPU; use bf16 or no on this machine")
    return prepare_output_dir(config.output_dir, config.resume, config.overwrite)


@dataclass
class Batch:
    """One iteration's random draws, all from the run's generator."""

    k: int
    noise: torch.Tensor
    negative: torch.Tensor  # (B, D) image embeddings
    positive: torch.Tensor
    preserve: torch.Tensor | None = None  # (B,) indices into the preservation prompts


@dataclass
class RunState:
    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)


def erase(config: BiErasingConfig, method: str = "bi-erasing") -> Path:
    """Run Bi-Erasing (or a baseline configured from it, named ``method``); returns the output folder."""
    out = check_before_loading(config)
    accelerator = Accelerator(mixed_precision=config.mixed_precision)
    pipe = load_base_pipeline(config.pretrained_model_name_or_path, accelerator.device)
    base_unet_config = dict(pipe.unet.config)

    texts = encode_texts(pipe, config.concept, config.positive_concept)
    preserve = encode_prompts(pipe, config.preserve_prompts) if config.preserve_prompts else None
    images = None
    if config.image_conditioning:
        negative_embeds, positive_embeds, images = reference_embeddings(pipe, config, out)
    else:  # text only: one placeholder embedding per branch keeps the random stream's shape
        negative_embeds = positive_embeds = torch.zeros(1, 1)

    trainer = BiErasingTrainer(pipe, texts, negative_embeds, positive_embeds, config, accelerator, images, preserve)
    started = time.perf_counter()
    state = trainer.train(out)
    if config.lora_rank:
        saved = save_lora(accelerator.unwrap_model(trainer.student), out)
    else:
        saved = save_unet(accelerator.unwrap_model(trainer.student), base_unet_config, out)
    config.save_yaml(out / CONFIG_FILE)
    last = state.history[-min(len(state.history), 20) :]
    write_run_info(
        out, config, name=RUN_FILE, method=method, concept=config.concept,
        positive_concept=config.positive_concept, base_model=config.pretrained_model_name_or_path,
        weights=saved.name, steps=state.step, seconds=round(time.perf_counter() - started, 1),
        final_losses={key: sum(h[key] for h in last) / len(last) for key in last[-1] if key != "step"},
        losses=state.history,
    )  # fmt: skip
    if config.save_pipeline:
        save_pipeline_folder(config.pretrained_model_name_or_path, out, lora=bool(config.lora_rank))
    return out


def reference_embeddings(pipe, config: BiErasingConfig, out: Path):
    """Reference sets -> masks -> mean-filled images -> IP-Adapter image embeddings (computed once).

    Returns both embeddings and the (negative, positive) masked images they came from.

    The references are generated by the base model before the image branch is attached.
    """
    negative = reference_set(pipe, config, "negative", out)
    segmenter = _segmenter(config) if config.mask_source == "clipseg" else None
    negative_images, _ = masked_images(negative, config, "negative", out, segmenter=segmenter, pipe=pipe)
    if config.lambda_pos:
        positive = reference_set(pipe, config, "positive", out)
        positive_images, _ = masked_images(positive, config, "positive", out, segmenter=segmenter, pipe=pipe)
    else:  # no positive branch (Co-Erasing): its slot reuses the negatives and is weighted zero
        positive_images = negative_images
    attach_ip_adapter(
        pipe, config.ip_adapter or config.pretrained_model_name_or_path, config.ip_adapter_subfolder,
        config.ip_adapter_weight_name,
    )  # fmt: skip
    return (
        encode_images(pipe, negative_images, desc="encode negatives"),
        encode_images(pipe, positive_images, desc="encode positives"),
        (negative_images, positive_images),
    )


def _segmenter(config: BiErasingConfig):
    source = config.segmenter
    if not source:
        local = Path(config.pretrained_model_name_or_path) / "segmenter"
        source = str(local) if local.is_dir() else "CIDAS/clipseg-rd64-refined"
    return load_clipseg(source)


LOW_PRECISION = {"bf16": torch.bfloat16, "fp16": torch.float16}


def frozen_teacher(unet: torch.nn.Module, device: torch.device, mixed_precision: str) -> torch.nn.Module:
    """A frozen copy of the base UNet, stored in the mixed-precision dtype when there is one.

    The teacher never trains, so it needs no fp32 master weights: in bf16 it takes half the
    memory (1.6 instead of 3.2 GiB for SD 1.5), which is what lets ``full`` fit on one GPU.
    """
    dtype = LOW_PRECISION.get(mixed_precision, torch.float32)
    return copy.deepcopy(unet).to(device, dtype).eval().requires_grad_(False)


class BiErasingTrainer:
    def __init__(
        self, pipe, texts: TextConditions, negative_embeds, positive_embeds, config, accelerator, images=None,
        preserve=None,
    ):  # fmt: skip
        self.config = config
        self.preserve = preserve  # (P, L, D) text states of the preservation prompts, or None
        self.images = images  # (negative, positive) masked images: re-encoded per step without cache_embeddings
        self.accelerator = accelerator
        self.pipe = pipe
        self.texts = texts
        self.negative_embeds = negative_embeds
        self.positive_embeds = positive_embeds
        self.use_images = config.image_conditioning
        device = accelerator.device
        teacher_device = torch.device(config.teacher_device) if config.teacher_device else device
        self.teacher = frozen_teacher(pipe.unet, teacher_device, config.mixed_precision)
        student = pipe.unet
        if config.init_unet:
            _load_init_unet(student, config.init_unet)
        if config.lora_rank:
            from peft import LoraConfig

            student.requires_grad_(False)
            lora = LoraConfig(
                r=config.lora_rank, lora_alpha=config.lora_rank, init_lora_weights="gaussian",
                target_modules=lora_target_modules(config.train_method),
            )  # fmt: skip
            student.add_adapter(lora)
            params = [p for p in student.parameters() if p.requires_grad]
        else:
            params = list(select_parameters(student, config.train_method).values())
        if config.text_guided_refinement:  # Co-Erasing's option: both UNets read the refined image tokens
            for unet in (self.teacher, student):
                attach_refinement(unet, texts.negative)
        if config.gradient_checkpointing:
            student.enable_gradient_checkpointing()
        # on a GPU, fused Adam: the default (foreach) one holds a temporary the size of the trained parameters at
        # each step (+3.2 GiB for SD 1.5 `full`), which would break its 16 GiB budget
        optimizer = torch.optim.Adam(params, lr=config.learning_rate, fused=accelerator.device.type == "cuda")
        self.student, self.optimizer = accelerator.prepare(student, optimizer)
        self.scheduler = rollout_scheduler(pipe.scheduler.config, config.ddim_steps)
        if config.rollout_steps:
            check_jumps(self.scheduler)  # before the first step, not at the first deep rollout
        self.generator = torch.Generator().manual_seed(config.seed)
        size = pipe.unet.config.sample_size
        self.latent_shape = (config.train_batch_size, pipe.unet.config.in_channels, size, size)

    # -- one iteration ---------------------------------------------------------------------------
    def draw(self) -> Batch:
        g, b = self.generator, self.config.train_batch_size
        k = int(torch.randint(self.config.ddim_steps, (1,), generator=g))
        noise = torch.randn(self.latent_shape, generator=g)
        negative = self._embeds(0, torch.randint(len(self.negative_embeds), (b,), generator=g))
        positive = self._embeds(1, torch.randint(len(self.positive_embeds), (b,), generator=g))
        # drawn every step, used only where a branch trains: the random stream never depends on the weights
        noise_neg, noise_pos = torch.randn(negative.shape, generator=g), torch.randn(positive.shape, generator=g)
        if self.config.embedding_noise:
            negative = negative + self.config.embedding_noise * noise_neg
            positive = positive + self.config.embedding_noise * noise_pos
        # drawn last, and only with preservation prompts: runs without them keep their random stream
        preserve = None if self.preserve is None else torch.randint(len(self.preserve), (b,), generator=g)
        return Batch(k, noise, negative, positive, preserve)

    def _embeds(self, which: int, index: torch.Tensor) -> torch.Tensor:
        if self.config.cache_embeddings or self.images is None:
            return (self.negative_embeds, self.positive_embeds)[which][index]
        images = self.images[which]
        return encode_images(self.pipe, [images[i] for i in index.tolist()], progress=False)

    def _eps(self, model, z: torch.Tensor, t: torch.Tensor, texts: list, images: list | None) -> torch.Tensor:
        """The model on several conditions sharing ``z`` and ``t``: one batched call, or one call each."""
        weight = next(model.parameters())
        z, t = z.to(weight.device, weight.dtype), t.to(weight.device)
        texts = [text.to(weight.device, weight.dtype) for text in texts]
        images = None if images is None else [image.to(weight.device, weight.dtype) for image in images]
        if self.config.batched_calls:
            image = None if images is None else torch.cat(images)
            return model(z.repeat(len(texts), 1, 1, 1), t, **unet_inputs(torch.cat(texts), image)).sample
        outs = [
            model(z, t, **unet_inputs(text, None if images is None else images[i])).sample
            for i, text in enumerate(texts)
        ]
        return torch.cat(outs)

    def rollout_predictor(self):
        """The student, text-only with the concept prompt and guidance: the image branch is switched off."""
        cfg = self.config
        text = torch.cat([self.texts.empty, self.texts.negative])
        no_image = torch.zeros(2, self.negative_embeds.shape[1], device=self.accelerator.device)

        def predict(latents: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            n = len(latents)
            image = no_image.repeat_interleave(n, 0) if self.use_images else None
            inputs = unet_inputs(text.repeat_interleave(n, 0), image)
            with self.accelerator.autocast():
                eps = self.student(torch.cat([latents, latents]), t, **inputs).sample.float()
            uncond, cond = eps.chunk(2)
            return uncond + cfg.rollout_guidance * (cond - uncond)

        return predict

    def rollout(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        cfg, noise = self.config, batch.noise.to(self.accelerator.device)
        # the rollout is text-only: no image tokens leak into it (without images there is no branch to switch off)
        with image_branch_off(self.accelerator.unwrap_model(self.student)):
            return rollout(self.rollout_predictor(), self.scheduler, noise, batch.k, cfg.rollout, cfg.rollout_steps)

    def losses(self, batch: Batch, step: int):
        cfg, device, b = self.config, self.accelerator.device, self.config.train_batch_size
        z, t = self.rollout(batch)
        z = z.clone()  # made under inference mode (no autograd bookkeeping): a clone may enter the student's graph
        neg, pos = batch.negative.to(device), batch.positive.to(device)
        tx = self.texts

        def rep(x: torch.Tensor) -> torch.Tensor:
            return x.expand(b, -1, -1)

        positive_text = tx.negative if cfg.positive_text == "concept" else tx.positive
        images = self.use_images
        with torch.inference_mode(), self.accelerator.autocast():
            teacher = self._eps(
                self.teacher, z, t, [rep(tx.empty), rep(tx.negative), rep(tx.empty), rep(tx.positive)],
                [neg, neg, pos, pos] if images else None,
            ).float().to(device)  # fmt: skip
        teacher = teacher.clone()  # an inference-mode tensor cannot enter autograd; a clone is an ordinary one
        with self.accelerator.autocast():
            student = self._eps(
                self.student, z, t, [rep(tx.negative), rep(positive_text)], [neg, pos] if images else None
            )
        student_neg, student_pos = student.chunk(2)
        w_neg, w_pos = branch_weights(step, cfg.max_train_steps, cfg.lambda_neg, cfg.lambda_pos, cfg.two_stage)
        losses = bi_erasing_loss(student_neg, student_pos, teacher, w_neg, w_pos, cfg.eta_neg, cfg.eta_pos)
        if batch.preserve is None:
            return losses
        return with_preservation(losses, *self.keep_predictions(z, t, batch.preserve), cfg.lambda_preserve)

    def keep_predictions(self, z: torch.Tensor, t: torch.Tensor, index: torch.Tensor):
        """Student and teacher on preservation prompts, text only, as a plain pipeline runs them."""
        text = [self.preserve[index.to(self.preserve.device)]]
        image = [torch.zeros(len(index), self.negative_embeds.shape[1])] if self.use_images else None
        student = self.accelerator.unwrap_model(self.student)
        with image_branch_off(student, self.teacher):
            with torch.inference_mode(), self.accelerator.autocast():
                teacher = self._eps(self.teacher, z, t, text, image).float().to(z.device)
            with self.accelerator.autocast():
                return self._eps(self.student, z, t, text, image), teacher.clone()

    # -- the loop ------------------------------------------------------------------------------
    def trainable(self) -> dict[str, torch.Tensor]:
        model = self.accelerator.unwrap_model(self.student)
        return {name: p for name, p in model.named_parameters() if p.requires_grad}

    def checkpoint(self, out: Path, state: RunState) -> Path:
        return save_checkpoint(
            out, Checkpoint(state.step, self.trainable(), self.optimizer.state_dict(), self.generator.get_state(),
                            state.history),
        )  # fmt: skip

    def restore(self, out: Path) -> RunState:
        folder = latest_checkpoint(out)
        if folder is None:
            raise UserError(f"--resume: no checkpoint in {out}; drop --resume to start a new run")
        saved = load_checkpoint(folder)
        if saved.step > self.config.max_train_steps:
            raise UserError(f"--resume: the checkpoint is at step {saved.step}, past --max_train_steps")
        params = self.trainable()
        if set(saved.trainable) != set(params):
            raise UserError(f"--resume: {folder} was trained with other parameters; resume with the same options")
        with torch.no_grad():
            for name, value in saved.trainable.items():
                params[name].copy_(value)
        self.optimizer.load_state_dict(saved.optimizer)
        self.generator.set_state(saved.rng_state)
        return RunState(saved.step, saved.history)

    def train(self, out: Path) -> RunState:
        cfg = self.config
        state = self.restore(out) if cfg.resume else RunState()
        self.student.train()
        bar = tqdm(range(state.step, cfg.max_train_steps), desc="bi-erasing", initial=state.step,
                   total=cfg.max_train_steps)  # fmt: skip
        largest = max((h["loss"] for h in state.history), default=0.0)
        for step in bar:
            losses = self.losses(self.draw(), step)
            value = float(losses.total.detach())
            if diverged(value, largest):
                kept = latest_checkpoint(out)
                raise TrainingDiverged(
                    f"the loss {'is ' + str(value) if not math.isfinite(value) else 'exploded to ' + f'{value:.3g}'} "
                    f"at step {step}; last good checkpoint: {kept or 'none'}; lower --learning_rate and --resume"
                )
            largest = max(largest, value)
            self.accelerator.backward(losses.total)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            state.step = step + 1
            record = {"step": state.step, "loss": value, "loss_neg": float(losses.negative.detach()),
                      "loss_pos": float(losses.positive.detach())}  # fmt: skip
            if losses.preservation is not None:
                record["loss_keep"] = float(losses.preservation.detach())
            state.history.append(record)
            bar.set_postfix(
                {name.replace("loss", "L"): f"{v:.4f}" for name, v in record.items() if name.startswith("loss_")}
            )
            if cfg.checkpointing_steps and state.step % cfg.checkpointing_steps == 0:
                self.checkpoint(out, state)
        self.checkpoint(out, state)
        return state


def _load_init_unet(student: torch.nn.Module, folder: str) -> None:
    from diffusers import UNet2DConditionModel

    erased = UNet2DConditionModel.from_pretrained(folder).state_dict()
    missing, unexpected = student.load_state_dict(erased, strict=False)
    leftover = [
        k for k in missing if "to_k_ip" not in k and "to_v_ip" not in k and not k.startswith("encoder_hid_proj")
    ]
    if leftover or unexpected:
        raise UserError(f"--init_unet {folder} does not match the base UNet ({(leftover + unexpected)[0]} ...)")
