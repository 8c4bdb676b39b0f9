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
        (
            lambda cb=None: sample_ddpm(
                eps_oracle, SHAPE, SCHED, generator=_gen(), callback=cb, record_stride=100
            ),
            1000,
        ),
        (lambda cb=None: sample_ddim(eps_oracle, SHAPE, SCHED, steps=50, generator=_gen(), callback=cb), 50),
        (
            lambda cb=None: sample_ddim(
                eps_oracle, SHAPE, SCHED, steps=200, eta=1.0, generator=_gen(), callback=cb
            ),
            200,
        ),  # stochastic: needs small steps
        (
            lambda cb=None: sample_heun(
                denoiser_oracle, SHAPE, karras_sigmas(25), generator=_gen(), callback=cb
            ),
            49,
        ),
        (
            lambda cb=None: sample_euler(
                denoiser_oracle, SHAPE, karras_sigmas(100), generator=_gen(), callback=cb
            ),
            100,
        ),
        (
            lambda cb=None: sample_heun(
                EpsDenoiser(eps_oracle, SCHED),
                SHAPE,
                default_karras(EpsDenoiser(eps_oracle, SCHED), 25),
                generator=_gen(),
                callback=cb,
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
    a = sample_ddim(eps_oracle, (4, 1, 2, 2), SCHED, steps=10, generator=_gen(3))
    b = sample_ddim(eps_oracle, (4, 1, 2, 2), SCHED, steps=10, generator=_gen(3))
    np.testing.assert_array_equal(a.samples, b.samples)
    seen = []

    def cb(info):
        seen.append(info["i"])
        return info["i"] == 4

    with pytest.raises(SamplingCancelled, match="step 5 of 10"):
        sample_ddim(eps_oracle, (4, 1, 2, 2), SCHED, steps=10, generator=_gen(3), callback=cb)
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


def test_registry_runs_every_sampler_through_one_signature_and_counts_its_evaluations():
    """Each entry's NFE rule matches what it runs; defaults and kinds come from one table."""
    from radioviz.sampling.registry import SAMPLERS, Target, nfe, resolve_steps, samplers_for

    calls = []

    def counted(fn):
        return lambda *a: calls.append(1) or fn(*a)

    discrete = Target(
        eps=counted(eps_oracle), schedule=SCHED, denoiser=EpsDenoiser(counted(eps_oracle), SCHED)
    )
    continuous = Target(denoiser=counted(denoiser_oracle), sigma_range=(0.002, 80.0))
    oneshot = Target(oneshot=lambda shape, g: calls.append(1) or torch.randn(shape, generator=g))
    shape = (256, 1, 2, 2)
    for name, target, steps in [
        ("ddpm", discrete, 1000),
        ("ddim", discrete, 20),
        ("heun", discrete, 6),
        ("euler", continuous, 30),
        ("heun", continuous, 6),
        ("oneshot", oneshot, 1),
    ]:
        calls.clear()
        traj = SAMPLERS[name].run(
            target, shape, steps, eta=0.0, generator=_gen(), callback=None, record_stride=1
        )
        assert len(calls) == traj.nfe == nfe(name, steps), name
        assert traj.samples.shape == shape
    assert samplers_for("ddpm") == ("ddim", "ddpm", "heun", "euler")
    assert samplers_for("edm") == ("heun", "euler") and samplers_for("wgan") == ("oneshot",)
    assert [resolve_steps(s, None, 1000) for s in ("ddpm", "ddim", "heun", "oneshot")] == [1000, 50, 25, 1]
    assert resolve_steps("ddpm", None, 400) == 400  # ancestral sampling runs the model's own T
    with pytest.raises(ValueError, match="runs exactly 1 step, not 5"):
        resolve_steps("oneshot", 5, 1000)
    with pytest.raises(ValueError, match="at least 1"):
        resolve_steps("ddim", 0, 1000)


def test_heun_churn_keeps_the_distribution_and_adds_noise_only_where_asked():
    """Karras et al. Algorithm 2: with churn the exact denoiser still yields N(0, S²), at the same
    NFE; the samples differ from the deterministic ones; S_churn = 0 (or a σ window that no step
    falls in) is the deterministic sampler bit for bit; γ is capped at √2 − 1.  50 steps: churn's
    own discretisation error at 25 steps is ~8 % in std (it vanishes as the steps shrink)."""
    from radioviz.sampling.samplers import Churn

    sig = karras_sigmas(50)
    plain = sample_heun(denoiser_oracle, SHAPE, sig, generator=_gen())
    churned = sample_heun(denoiser_oracle, SHAPE, sig, generator=_gen(), churn=Churn(40.0))
    assert churned.nfe == plain.nfe == 99
    assert abs(churned.samples.std() - S) < 0.04 and abs(churned.samples.mean()) < 0.04
    assert np.abs(churned.samples - plain.samples).mean() > 0.05
    # the record starts at the raised σ̂ = σ_0 (1 + γ)
    assert churned.sigmas[0] == pytest.approx(80.0 * (1 + min(40 / 50, 2**0.5 - 1)), rel=1e-5)
    for off in (Churn(0.0), Churn(40.0, s_tmin=100.0, s_tmax=200.0)):
        same = sample_heun(denoiser_oracle, SHAPE, sig, generator=_gen(), churn=off)
        np.testing.assert_array_equal(same.samples, plain.samples)
    assert Churn(1000.0).gamma(1.0, 25) == pytest.approx(2**0.5 - 1)
    assert Churn(10.0, s_tmin=0.5).gamma(0.1, 25) == 0.0 and Churn(10.0).gamma(0.1, 25) == pytest.approx(0.4)
    # a wrong noise level (σ̂ not carried into the step) breaks the distribution: the check can fail
    bad = sample_heun(
        lambda x, s: denoiser_oracle(x, s / (1 + min(40 / 50, 2**0.5 - 1))),
        SHAPE,
        sig,
        generator=_gen(),
        churn=Churn(40.0),
    )
    assert abs(bad.samples.std() - S) > 0.04
