"""DIFT's protocol steps, with stand-in encoder and UNet whose every input is recorded."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from drag_editing_dev.drag.bench.dift import DiftModel, dift_features


def test_each_step_of_the_protocol():
    calls = {}
    image = torch.rand(1, 3, 32, 48) * 2 - 1
    mean = torch.randn(1, 4, 4, 6).repeat(3, 1, 1, 1)
    logvar = torch.full_like(mean, -2.0)
    alphas = torch.linspace(0.99, 0.01, 1000)

    def encode(batch):
        calls["encoded"] = batch
        return mean, logvar

    def features(latent, t, context):
        calls["unet"] = (latent, t, context)
        return latent[:, :2] * torch.arange(1, 4.0).view(3, 1, 1, 1)  # differs per copy: the mean must average them

    context = torch.randn(1, 77, 8)
    generator = torch.Generator().manual_seed(5)
    out = dift_features(image, DiftModel(encode, features, alphas, 0.5), context, generator, t=261, ensemble=3)

    assert torch.equal(calls["encoded"], image.repeat(3, 1, 1, 1))
    replay = torch.Generator().manual_seed(5)
    sample = torch.randn(mean.shape, generator=replay)
    latent = (mean + torch.exp(0.5 * logvar) * sample) * 0.5
    noise = torch.randn(latent.shape, generator=replay)
    expected_noisy = alphas[261].sqrt() * latent + (1 - alphas[261]).sqrt() * noise
    noisy, t, seen_context = calls["unet"]
    assert t == 261 and torch.allclose(noisy, expected_noisy) and seen_context.shape == (3, 77, 8)
    assert torch.equal(seen_context[2], context[0])
    per_copy = expected_noisy[:, :2] * torch.arange(1, 4.0).view(3, 1, 1, 1)
    expected = F.interpolate(per_copy.mean(0, keepdim=True), (32, 48), mode="bilinear", align_corners=False)
    assert out.shape == (1, 2, 32, 48) and torch.allclose(out, expected)
