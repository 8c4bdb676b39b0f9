"""Samplers checked against an exact model: for Gaussian data N(0, s²) the ideal denoiser and
ε-predictor are known in closed form, so every sampler must return samples with std s."""

import numpy as np
import pytest
import torch

from radioviz.sampling.samplers import (
    EpsDenoiser,
    ddim_timesteps,
    default_karras,
    sample_ddim,
    sample_ddpm,
    sample_euler,
    sample_heun,
)
from radioviz.sampling.schedules import DiscreteSchedule, karras_sigmas
from radioviz.sampling.trajectory import SamplingCancelled

S = 0.5
SCHED = DiscreteSchedule()
SHAPE = (1000, 1, 2, 2)


def eps_oracle(x, t):
    a = SCHED.alphas_cumprod.float()[t].reshape(-1, 1, 1, 1)
    return (1 - a).sqrt() * x / (a * S**2 + 1 - a)


def denoiser_oracle(x, sigma):
    s = sigma.reshape(-1, 1, 1, 1)
    return x * S**2 / (S**2 + s**2)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize(
    "run, nfe",
    [
        (lambda cb=None: sample_ddpm(eps_oracle, SHAPE, SCHED, _gen(), cb, record_stride=100), 1000),
        (lambda cb=None: sample_ddim(eps_oracle, SHAPE, SCHED, 50, 0.0, _gen(), cb), 50),
        (
            lambda cb=None: sample_ddim(eps_oracle, SHAPE, SCHED, 200, 1.0, _gen(), cb),
            200,
        ),  # stochastic: needs small steps
        (lambda cb=None: sample_heun(denoiser_oracle, SHAPE, karras_sigmas(25), _gen(), cb), 49),
        (lambda cb=None: sample_euler(denoiser_oracle, SHAPE, karras_sigmas(100), _gen(), cb), 100),
        (
            lambda cb=None: sample_heun(
                EpsDenoiser(eps_oracle, SCHED),
                SHAPE,
                default_karras(EpsDenoiser(eps_oracle, SCHED), 25),
                _gen(),
                cb,
            ),
            49,
        ),
    ],
    ids=["ddpm-1000", "ddim-50", "ddim-200-eta1", "heun-25", "euler-100", "heun-on-ddpm"],
)
def test_samplers_reproduce_the_data_distribution(run, nfe):
    traj = run()
    assert traj.nfe == nfe
    assert traj.samples.shape == SHAPE
    assert abs(traj.samples.std() - S) < 0.04 and abs(traj.samples.mean()) < 0.04
    # the record: noise level falls, the last entry is the last step, x̂0 is near the samples at the end
    assert traj.sigmas[0] > traj.sigmas[-1] and len(traj.xs) == len(traj.denoised) == len(traj.sigmas)
    assert np.abs(traj.denoised[-1] - traj.samples).mean() < 0.05


def test_same_seed_same_samples_and_cancel():
    a = sample_ddim(eps_oracle, (4, 1, 2, 2), SCHED, 10, 0.0, _gen(3))
    b = sample_ddim(eps_oracle, (4, 1, 2, 2), SCHED, 10, 0.0, _gen(3))
    np.testing.assert_array_equal(a.samples, b.samples)
    seen = []

    def cb(info):
        seen.append(info["i"])
        return info["i"] == 4

    with pytest.raises(SamplingCancelled, match="step 5 of 10"):
        sample_ddim(eps_oracle, (4, 1, 2, 2), SCHED, 10, 0.0, _gen(3), cb)
    assert seen == [0, 1, 2, 3, 4]


def test_schedules():
    assert (
        ddim_timesteps(1000, 50)[0] == 999
        and ddim_timesteps(1000, 50)[-1] == 0
        and len(ddim_timesteps(1000, 50)) == 50
    )
    k = karras_sigmas(25)
    assert (
        len(k) == 26
        and float(k[0]) == pytest.approx(80)
        and float(k[-2]) == pytest.approx(0.002)
        and float(k[-1]) == 0
    )
    den = EpsDenoiser(eps_oracle, SCHED)
    assert float(den.t_for(SCHED.sigmas[500:501].float())[0]) == pytest.approx(500, abs=1e-3)
