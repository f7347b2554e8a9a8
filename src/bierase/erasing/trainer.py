"""The one trainer of every trained method: it runs an objective's terms and knows nothing of any method.

One iteration: draw a step k of the N-step schedule, the noise, and the reference images and prompts
the conditions need; roll the student out from noise to ``z_t`` (text only, the concept's prompt with
guidance), or, with ``--rollout noised``, noise the drawn concept image's latent to ``t``; the teacher on
every term's conditions in one batched call (no gradient) and the student on every term's conditions in
another; one optimizer step on the sum of the terms' losses. All
randomness comes from one seeded generator whose state is checkpointed, so ``--resume`` ends at the
same weights as an uninterrupted run. A diverging loss or non-finite weights stop the run before
anything is saved (``divergence.RULE``).
"""

from __future__ import annotations

import copy
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from bierase.erasing.checkpoint import Checkpoint, latest_checkpoint, load_checkpoint, save_checkpoint
from bierase.erasing.conditions import encode_images, image_branch_off, time_ids, unet_inputs
from bierase.erasing.divergence import WINDOW, divergence
from bierase.erasing.image_sets import ImageSets
from bierase.erasing.model_loading import load_init_unet
from bierase.erasing.objective import Condition, Losses, Term, check_terms, image_sets_of
from bierase.erasing.parameters import lora_target_modules, select_parameters
from bierase.erasing.rollout import check_jumps, rollout, rollout_scheduler
from bierase.erasing.saving import non_finite
from bierase.erasing.training_config import RESUMABLE, TrainingConfig
from bierase.errors import UserError

PER_SAMPLE_TEXTS = ("preserve",)  # texts with several prompts, one drawn per sample
LOW_PRECISION = {"bf16": torch.bfloat16, "fp16": torch.float16}


class TrainingDiverged(UserError):
    pass


@dataclass
class Batch:
    """One iteration's random draws, all from the run's generator."""

    k: int
    noise: torch.Tensor
    concepts: torch.Tensor | None  # (B,) which concept each sample trains (None: there is one)
    images: dict[str, torch.Tensor]  # reference set -> (B, D) drawn image embeddings
    image_index: dict[str, torch.Tensor]  # reference set -> (B,) which of its images were drawn
    prompts: dict[str, torch.Tensor]  # per-sample text -> (B,) indices of the drawn prompts


@dataclass
class RunState:
    step: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    segments: list[dict] = field(default_factory=list)  # provenance: the steps each start ran, with what


def frozen_teacher(unet: torch.nn.Module, device: torch.device, mixed_precision: str) -> torch.nn.Module:
    """A frozen copy of the base UNet, stored in the mixed-precision dtype when there is one.

    The teacher never trains, so it needs no fp32 master weights: in bf16 it takes half the
    memory (1.6 instead of 3.2 GiB for SD 1.5), which is what lets ``full`` fit on one GPU.
    """
    dtype = LOW_PRECISION.get(mixed_precision, torch.float32)
    return copy.deepcopy(unet).to(device, dtype).eval().requires_grad_(False)


def compiled_like_student(teacher: torch.nn.Module, accelerator) -> torch.nn.Module:
    """The teacher compiled as ``accelerator.prepare`` compiles the student (its dynamo plugin's backend and
    options), or as it is when accelerate compiles nothing. The teacher is not prepared itself: it never
    trains, so it must not be wrapped for distributed training."""
    from accelerate.utils import DynamoBackend

    plugin = accelerator.state.dynamo_plugin
    if plugin.backend == DynamoBackend.NO:
        return teacher
    return torch.compile(teacher, **plugin.to_kwargs())


class Trainer:
    def __init__(
        self, pipe, terms: list[Term], texts: dict[str, torch.Tensor], image_sets: ImageSets | None,
        config: TrainingConfig, accelerator, method: str,
    ):  # fmt: skip
        check_terms(terms)
        self.pipe, self.terms, self.texts, self.config, self.accelerator = pipe, terms, texts, config, accelerator
        self.method = method
        self.image_sets = image_sets
        self.set_names = image_sets_of(terms)
        # a UNet with an image branch answers text-only calls with it switched off and zero image embeddings
        self.image_dim = image_sets.embeds[self.set_names[0]].shape[1] if image_sets else None
        device = accelerator.device
        teacher_device = torch.device(config.teacher_device) if config.teacher_device else device
        self.teacher = frozen_teacher(pipe.unet, teacher_device, config.mixed_precision)
        student = pipe.unet
        if config.init_unet:
            load_init_unet(student, config.init_unet)
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
        for term in terms:
            term.prepare(self.teacher, student, texts)
        if config.gradient_checkpointing:
            student.enable_gradient_checkpointing()
        # on a GPU, fused Adam: the default (foreach) one holds a temporary the size of the trained parameters at
        # each step (+3.2 GiB for SD 1.5 `full`), which would break its 16 GiB budget
        optimizer = torch.optim.Adam(params, lr=config.learning_rate, fused=device.type == "cuda")
        self.student, self.optimizer = accelerator.prepare(student, optimizer)  # compiled here if accelerate compiles
        self.teacher = compiled_like_student(self.teacher, accelerator)
        self.scheduler = rollout_scheduler(pipe.scheduler.config, config.ddim_steps)
        if config.rollout_steps:
            check_jumps(self.scheduler)  # before the first step, not at the first deep rollout
        self.generator = torch.Generator().manual_seed(config.seed)
        self._last_rollout: tuple[torch.Tensor, torch.Tensor] | None = None
        size = pipe.unet.config.sample_size
        self.latent_shape = (config.train_batch_size, pipe.unet.config.in_channels, size, size)
        # SDXL: the size conditions of that resolution, the same for every call (None: a UNet without them)
        self.time_ids = time_ids(pipe)

    def unwrapped(self, model: torch.nn.Module) -> torch.nn.Module:
        """The UNet itself, without accelerate's or torch.compile's wrapper: its processors and parameter names."""
        return self.accelerator.unwrap_model(model, keep_torch_compile=False)

    # -- one iteration ---------------------------------------------------------------------------
    def draw(self) -> Batch:
        g, b, cfg = self.generator, self.config.train_batch_size, self.config
        k = int(torch.randint(cfg.ddim_steps, (1,), generator=g))
        noise = torch.randn(self.latent_shape, generator=g)
        # several concepts: each sample trains one, drawn uniformly (one concept draws nothing: its stream is kept)
        n_concepts = len(self.texts["concept"])
        concepts = torch.randint(n_concepts, (b,), generator=g) if n_concepts > 1 else None
        index = {name: self._image_index(name, concepts) for name in self.set_names}
        images = {name: self._embeds(name, index[name]) for name in self.set_names}
        # drawn every step, used only with --embedding_noise: the random stream never depends on its value
        noises = {name: torch.randn(images[name].shape, generator=g) for name in self.set_names}
        if getattr(cfg, "embedding_noise", 0.0):
            images = {name: images[name] + cfg.embedding_noise * noises[name] for name in self.set_names}
        # drawn last: runs without per-sample texts keep their random stream
        prompts = {
            key: torch.randint(len(self.texts[key]), (b,), generator=g) for key in PER_SAMPLE_TEXTS if key in self.texts
        }
        return Batch(k, noise, concepts, images, index, prompts)

    def _image_index(self, name: str, concepts: torch.Tensor | None) -> torch.Tensor:
        """Indices into the set ``name``: for each sample, an image of its concept's part of the set."""
        g, b, parts = self.generator, self.config.train_batch_size, self.image_sets.parts[name]
        if len(parts) == 1:  # one part (one concept, or one positive set shared by all)
            start, size = parts[0]
            return start + torch.randint(size, (b,), generator=g)
        start, size = (torch.tensor([p[i] for p in parts])[concepts] for i in (0, 1))
        return start + (torch.rand(b, generator=g) * size).long()

    def _embeds(self, name: str, index: torch.Tensor) -> torch.Tensor:
        if self.config.cache_embeddings:
            return self.image_sets.embeds[name][index]
        images = self.image_sets.images[name]
        return encode_images(self.pipe, [images[i] for i in index.tolist()], progress=False)

    def _text(self, key: str, batch: Batch) -> torch.Tensor:
        """(B, L, D): a drawn prompt per sample, each sample's concept's text, or the one text for all."""
        return self._rows(self.texts[key], key, batch)

    def _pooled(self, key: str, batch: Batch) -> torch.Tensor:
        """(B, P): SDXL's pooled embeddings of the same prompts as ``_text``."""
        return self._rows(self.texts.pooled[key], key, batch)

    def _rows(self, table: torch.Tensor, key: str, batch: Batch) -> torch.Tensor:
        if key in batch.prompts:
            return table[batch.prompts[key].to(table.device)]
        if len(table) > 1:  # one text per concept (the concepts, their positive concepts)
            return table[batch.concepts.to(table.device)]
        return table.expand(self.config.train_batch_size, *table.shape[1:])

    def _eps(self, model, z, t, texts, images, pooled, image_on) -> torch.Tensor:
        """The model on conditions sharing ``z`` and ``t``, stacked along dim 0 (``texts``: (n B, L, D)), in one call."""
        weight = next(model.parameters())
        z = z.to(weight.device, weight.dtype).repeat(len(texts) // len(z), 1, 1, 1)
        texts, images, pooled, ids = (
            None if x is None else x.to(weight.device, weight.dtype) for x in (texts, images, pooled, self.time_ids)
        )
        return model(z, t.to(weight.device), **unet_inputs(texts, images, pooled, ids, image_on)).sample

    def predict(self, model, conditions: tuple[Condition, ...], z, t, batch: Batch, grad: bool) -> torch.Tensor:
        """``model`` on ``conditions``, stacked along dim 0, in one call (``--no_batched_calls``: one per condition).

        Text-only conditions run with the image branch off, as a plain pipeline runs: the whole call's branch
        when every condition is text only, else per sample (IP-Adapter masks), so that the text-only and the
        image-conditioned conditions of every term share one call. Without ``grad`` (the teacher) the call
        runs under inference mode and returns an ordinary tensor.
        """
        if not self.config.batched_calls and len(conditions) > 1:  # the reference code's way
            return torch.cat([self.predict(model, (c,), z, t, batch, grad) for c in conditions])
        b, device = self.config.train_batch_size, self.accelerator.device
        texts = torch.cat([self._text(c.text, batch) for c in conditions])
        pooled = None if self.time_ids is None else torch.cat([self._pooled(c.text, batch) for c in conditions])
        images, image_on, branch = None, None, nullcontext()
        if self.image_dim is not None:  # a UNet with an image branch: text-only samples get zero embeddings
            with_image = [c.image is not None for c in conditions]
            zeros = torch.zeros(b, self.image_dim)
            images = torch.cat([batch.images[c.image] if c.image else zeros for c in conditions]).to(device)
            if not any(with_image):
                branch = image_branch_off(self.unwrapped(model))
            elif not all(with_image):
                image_on = torch.tensor(with_image).repeat_interleave(b)
        with branch:
            if not grad:
                with torch.inference_mode(), self.accelerator.autocast():
                    out = self._eps(model, z, t, texts, images, pooled, image_on).float().to(device)
                return out.clone()  # an inference-mode tensor cannot enter autograd; a clone is an ordinary one
            with self.accelerator.autocast():
                return self._eps(model, z, t, texts, images, pooled, image_on)

    def rollout_predictor(self, batch: Batch):
        """The student, text-only with each sample's concept prompt and guidance: the image branch is off."""
        cfg, b = self.config, self.config.train_batch_size
        text = torch.cat([self.texts["empty"].expand(b, -1, -1), self._text("concept", batch)])
        no_image = (
            None if self.image_dim is None else torch.zeros(2 * b, self.image_dim, device=self.accelerator.device)
        )
        pooled, ids = None, None
        if self.time_ids is not None:  # SDXL: the same prompts' pooled embeddings, and the rollout size's time ids
            pooled = torch.cat([self._pooled("empty", batch), self._pooled("concept", batch)])
            ids = self.time_ids.to(self.accelerator.device)

        def predict(latents: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            inputs = unet_inputs(text, no_image, pooled, ids)
            with self.accelerator.autocast():
                eps = self.student(torch.cat([latents, latents]), t, **inputs).sample.float()
            uncond, cond = eps.chunk(2)
            return uncond + cfg.rollout_guidance * (cond - uncond)

        return predict

    def rollout(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        cfg, noise = self.config, batch.noise.to(self.accelerator.device)
        if cfg.rollout == "noised":
            return self.noised(batch)
        # the rollout is text-only: no image tokens leak into it (without images there is no branch to switch off)
        with image_branch_off(self.unwrapped(self.student)):
            return rollout(
                self.rollout_predictor(batch), self.scheduler, noise, batch.k, cfg.rollout, cfg.rollout_steps
            )

    def noised(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """``z_t`` without a UNet call: the drawn negative reference image's latent, noised to the k-th timestep
        with the batch's noise by the scheduler's own ``add_noise`` (the image its embedding conditions on)."""
        t = self.scheduler.timesteps[batch.k]
        clean = self.image_sets.latents["negative"][batch.image_index["negative"]]
        z = self.scheduler.add_noise(clean, batch.noise, t.repeat(len(clean)))
        return z.to(self.accelerator.device), t

    def losses(self, batch: Batch, step: int) -> Losses:
        # --rollout_reuse R: a rollout serves R steps; it starts at multiples of R, checkpoints too, so --resume
        # starts a new one exactly where the uninterrupted run did
        if step % self.config.rollout_reuse == 0 or self._last_rollout is None:
            self._last_rollout = self.rollout(batch)
        z, t = self._last_rollout
        z = z.clone()  # made under inference mode (no autograd bookkeeping): a clone may enter the student's graph
        teacher = self.predict_terms(self.teacher, "teacher", z, t, batch, grad=False)
        student = self.predict_terms(self.student, "student", z, t, batch, grad=True)
        total, parts = None, {}
        for term, term_student, term_teacher in zip(self.terms, student, teacher):
            losses = term.loss(term_student, term_teacher, step)
            total = losses.total if total is None else total + losses.total
            parts.update(losses.parts)
        return Losses(total, parts)

    def predict_terms(self, model, side: str, z, t, batch: Batch, grad: bool) -> list[torch.Tensor]:
        """Every term's ``side`` conditions ("teacher" or "student") in one call, split back per term: a step
        makes one teacher and one student call whatever the terms (Bi-Erasing and its preservation term)."""
        per_term = [getattr(term, side) for term in self.terms]
        out = self.predict(model, tuple(c for conditions in per_term for c in conditions), z, t, batch, grad)
        return list(out.split([len(conditions) * self.config.train_batch_size for conditions in per_term]))

    # -- checkpoints -----------------------------------------------------------------------------
    def trainable(self) -> dict[str, torch.Tensor]:
        return {name: p for name, p in self.unwrapped(self.student).named_parameters() if p.requires_grad}

    def check_finite(self, out: Path, step: int) -> None:
        bad = non_finite(self.trainable())
        if bad:
            raise TrainingDiverged(
                self.diverged(f"{len(bad)} weight tensors are not finite (e.g. {bad[0]})", step, out)
            )

    def checkpoint(self, out: Path, state: RunState) -> Path:
        """A checkpoint of weights known to be finite: the last one is always good to resume from."""
        self.check_finite(out, state.step)
        state.segments[-1]["to_step"] = state.step
        saved = Checkpoint(state.step, self.trainable(), self.optimizer.state_dict(), self.generator.get_state(),
                           state.history, state.segments)  # fmt: skip
        return save_checkpoint(out, saved)

    def diverged(self, reason: str, step: int, out: Path) -> str:
        kept = latest_checkpoint(out)
        where = f"it continues from {kept}" if kept else "it starts again from step 0, keeping the references"
        return (
            f"training diverged at step {step}: {reason}; nothing was saved as a result. "
            f"Lower --learning_rate and pass --resume ({where})"
        )

    def restore(self, out: Path, finished: bool) -> RunState:
        folder = latest_checkpoint(out)
        if folder is None:
            return RunState()  # a run that failed before its first checkpoint starts again from step 0
        saved = load_checkpoint(folder)
        cfg = self.config
        if saved.step > cfg.max_train_steps or (finished and saved.step == cfg.max_train_steps):
            raise UserError(
                f"--resume: the run in {out} is at step {saved.step}; give a --max_train_steps above it to train further"
            )
        params = self.trainable()
        if set(saved.trainable) != set(params):
            raise UserError(f"--resume: {folder} was trained with other parameters; resume with the same options")
        with torch.no_grad():
            for name, value in saved.trainable.items():
                params[name].copy_(value)
        self.optimizer.load_state_dict(saved.optimizer)
        for group in self.optimizer.param_groups:  # a new --learning_rate applies from here on, for real
            group["lr"] = cfg.learning_rate
        self.generator.set_state(saved.rng_state)
        return RunState(saved.step, saved.history, saved.segments)

    # -- the loop ------------------------------------------------------------------------------
    def train(self, out: Path, finished: bool = False) -> RunState:
        cfg = self.config
        state = self.restore(out, finished) if cfg.resume else RunState()
        state.segments.append(
            {"from_step": state.step, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
             **{name: getattr(cfg, name) for name in RESUMABLE if name not in ("resume", "overwrite")}}
        )  # fmt: skip
        self.student.train()
        bar = tqdm(range(state.step, cfg.max_train_steps), desc=self.method, initial=state.step,
                   total=cfg.max_train_steps)  # fmt: skip
        for step in bar:
            losses = self.losses(self.draw(), step)
            value = float(losses.total.detach())
            reason = divergence(value, [h["loss"] for h in state.history[-WINDOW:]])
            if reason:
                raise TrainingDiverged(self.diverged(reason, step, out))
            self.accelerator.backward(losses.total)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            state.step = step + 1
            record = {"step": state.step, "loss": value, **{k: float(v.detach()) for k, v in losses.parts.items()}}
            state.history.append(record)
            bar.set_postfix({name.replace("loss", "L"): f"{v:.4f}" for name, v in record.items() if name != "step"})
            if cfg.checkpointing_steps and state.step % cfg.checkpointing_steps == 0:
                self.checkpoint(out, state)
        self.checkpoint(out, state)
        return state
