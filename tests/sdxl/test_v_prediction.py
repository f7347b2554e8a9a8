"""SD 2.x's v-prediction: the targets combine teacher outputs linearly, so they hold in any parameterisation
as long as the student's output is in the same one, and the rollout reads the UNet's output as the scheduler's
``prediction_type`` says. Both checked on a tiny v-prediction pipeline against formulas written out here."""

import pytest
import torch
import torch.nn.functional as F

from bierase.erasing.model_loading import load_base_pipeline
from bierase.erasing.rollout import ddim_jumps, rollout, rollout_scheduler
from bierase.methods.esd import ESDConfig
from bierase.methods.esd.objective import objective

TINY = dict(concept="nude", train_method="xattn", learning_rate=1e-3, max_train_steps=1, ddim_steps=4,
            checkpointing_steps=0, train_batch_size=2)  # fmt: skip


@pytest.fixture
def trainer_and_texts(sd2_folder, tmp_path, make_trainer):
    pipe = load_base_pipeline(str(sd2_folder), torch.device("cpu"))
    assert pipe.scheduler.config.prediction_type == "v_prediction"
    cfg = ESDConfig(pretrained_model_name_or_path=str(sd2_folder), output_dir=str(tmp_path), **TINY)
    return make_trainer(pipe, cfg, objective(cfg))


def ddim_v_step(v, t, x, alphas, previous):
    """One deterministic DDIM step from a v-prediction: x0 = sqrt(a) x - sqrt(1-a) v, eps = sqrt(a) v + sqrt(1-a) x."""
    a, a_prev = alphas[t], alphas[previous] if previous >= 0 else alphas[0]  # set_alpha_to_one=False: alphas[0]
    x0 = a.sqrt() * x - (1 - a).sqrt() * v
    eps = a.sqrt() * v + (1 - a).sqrt() * x
    return a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps


def test_the_rollout_reads_the_unet_output_as_v(trainer_and_texts):
    trainer, texts = trainer_and_texts
    assert trainer.scheduler.config.prediction_type == "v_prediction"  # the rollout's DDIM, from the model's config
    batch = trainer.draw()
    predict = trainer.rollout_predictor(batch)
    timesteps, alphas = trainer.scheduler.timesteps, trainer.scheduler.alphas_cumprod
    gap = 1000 // trainer.config.ddim_steps
    for k in (1, 3):
        z, t = rollout(predict, trainer.scheduler, batch.noise, k)
        x = batch.noise.clone()
        with torch.no_grad():
            for step in timesteps[:k]:
                text = torch.cat([texts["empty"].expand(2, -1, -1), texts["concept"].expand(2, -1, -1)])
                uncond, cond = trainer.student(torch.cat([x, x]), step, text).sample.chunk(2)
                x = ddim_v_step(uncond + 3.0 * (cond - uncond), int(step), x, alphas, int(step) - gap)
        assert int(t) == int(timesteps[k])
        assert torch.allclose(z, x, atol=1e-5), (k, (z - x).abs().max())
        # the rollout's jumps (first-order DPM-Solver++ from the same config) are v-prediction too
        jumped = ddim_jumps(predict, trainer.scheduler, batch.noise, [int(s) for s in timesteps[: k + 1]])
        assert torch.allclose(jumped, z, atol=1e-4), (k, (jumped - z).abs().max())
    # the control: the same UNet outputs read as noise predictions give another z_t
    as_eps = rollout_scheduler({**trainer.scheduler.config, "prediction_type": "epsilon"}, trainer.config.ddim_steps)
    assert not torch.allclose(rollout(predict, as_eps, batch.noise, 3)[0], z, atol=1e-3)


def test_one_esd_step_is_the_equation_on_raw_v_outputs(trainer_and_texts):
    """Teacher and student both answer in v: the target is ESD's combination of the teacher's v outputs and the
    student's v output is regressed on it, with no conversion on either side."""
    trainer, texts = trainer_and_texts
    state = trainer.generator.get_state()
    batch = trainer.draw()
    z, t = rollout(trainer.rollout_predictor(batch), trainer.scheduler, batch.noise, batch.k)
    trainer.generator.set_state(state)
    losses = trainer.losses(trainer.draw(), step=0)
    with torch.no_grad():
        uncond, concept = (trainer.teacher(z, t, texts[k].expand(2, -1, -1)).sample for k in ("empty", "concept"))
        student = trainer.student(z, t, texts["concept"].expand(2, -1, -1)).sample
    assert texts["concept"].shape[-1] == 48  # SD 2.x's wider text reaches the UNet unchanged
    expected = F.mse_loss(student, uncond - 1.0 * (concept - uncond))
    assert losses.total.item() == pytest.approx(expected.item(), rel=1e-5)


def test_the_prompt_attack_matches_the_velocity_on_a_v_prediction_model(sd2_folder):
    """SD 2.x answers in v: the attack's loss is against the velocity of the noised target, not the noise
    (the noise is the control: the loss against it differs)."""
    from diffusers import DDPMScheduler, StableDiffusionPipeline

    from bierase.evaluation.soft_prefix import PrefixConfig, SoftPrefix, optimise_prefix, vocabulary_ids

    pipe = StableDiffusionPipeline.from_pretrained(sd2_folder)
    pipe.unet.requires_grad_(False)
    pipe.text_encoder.requires_grad_(False)
    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(5))
    candidates = vocabulary_ids(pipe.tokenizer)
    _, losses = optimise_prefix(pipe, "a nude person", latents, candidates, PrefixConfig(2, 1, 0.1, 2),
                                torch.Generator().manual_seed(7))  # fmt: skip

    generator = torch.Generator().manual_seed(7)
    prefix = SoftPrefix(pipe.text_encoder, candidates, 2, generator)
    t = torch.randint(0, 1000, (2,), generator=generator)
    noise = torch.randn((2, 4, 8, 8), generator=generator)
    schedule = DDPMScheduler.from_config(pipe.scheduler.config)
    clean = latents.expand(2, -1, -1, -1)
    ids = pipe.tokenizer("a a a nude person", padding="max_length", return_tensors="pt").input_ids
    with torch.no_grad():
        v = pipe.unet(schedule.add_noise(clean, noise, t), t, pipe.text_encoder(ids)[0].expand(2, -1, -1)).sample
    prefix.remove()
    assert losses[0] == pytest.approx(F.mse_loss(v, schedule.get_velocity(clean, noise, t)).item(), rel=1e-5)
    assert losses[0] != pytest.approx(F.mse_loss(v, noise).item(), rel=1e-5)
