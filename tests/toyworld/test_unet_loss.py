"""The UNet's Min-SNR-weighted loss, checked against its definition."""

import torch

from bierase.toyworld.train.unet import SNR_GAMMA, min_snr_mse, noise_scheduler


def test_noisy_timesteps_keep_plain_mse_and_clean_ones_are_capped():
    scheduler = noise_scheduler()
    alpha = scheduler.alphas_cumprod
    snr = alpha / (1 - alpha)
    noisy, clean = 900, 0
    assert snr[noisy] < SNR_GAMMA < snr[clean]
    pred, noise = torch.randn(2, 4, 3, 3), torch.randn(2, 4, 3, 3)
    plain = ((pred - noise) ** 2).mean(dim=(1, 2, 3))

    got = min_snr_mse(pred, noise, scheduler, torch.tensor([noisy, clean]))

    expected = (plain[0] + plain[1] * SNR_GAMMA / snr[clean]) / 2
    torch.testing.assert_close(got, expected.float())
    assert got < ((pred - noise) ** 2).mean()  # the capped timestep weighs less than in plain MSE
