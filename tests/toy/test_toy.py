"""The 2-D toy diffusion (issue #28 item 6): clouds, a denoiser trained in seconds that lands the
particles on its cloud, the direction field, and captions computed from the frames."""

from __future__ import annotations

import numpy as np
import pytest

from radioviz.toy.clouds import CLOUDS, sample_cloud
from radioviz.toy.model import direction_field, train_toy
from radioviz.toy.run import nearest_distance, sample_toy


@pytest.mark.parametrize("cloud", CLOUDS)
def test_each_cloud_has_unit_spread(cloud):
    pts = sample_cloud(cloud, 2000, seed=1)
    assert (
        pts.shape == (2000, 2)
        and np.allclose(pts.std(0), 1, atol=1e-4)
        and np.allclose(pts.mean(0), 0, atol=1e-4)
    )


def test_unknown_cloud_is_refused():
    with pytest.raises(ValueError, match="two moons"):
        sample_cloud("square", 10)


@pytest.fixture(scope="module")
def ring():
    return train_toy("ring")  # the app's recipe: ≈ 5 s on one core


def test_the_sampled_particles_land_on_the_cloud_and_noise_does_not(ring):
    traj = sample_toy(ring, n=400, steps=15, seed=2)
    assert len(traj.xs) == 15 and traj.samples.shape == (400, 2)
    landed = nearest_distance(traj.samples, ring.data)
    noise = nearest_distance(np.random.default_rng(0).normal(0, 1, (400, 2)), ring.data)
    assert landed < 0.05 < noise  # on the ring, where unit Gaussian noise is not
    r = np.hypot(*traj.samples.T)
    assert abs(np.median(r) - np.median(np.hypot(*ring.data.T))) < 0.05


def test_the_direction_field_points_towards_the_cloud(ring):
    f = direction_field(ring, sigma=0.3, lim=2.5, n=11)
    r = np.hypot(f["x"], f["y"])
    outward = (f["x"] * f["dx"] + f["y"] * f["dy"]) / np.maximum(r, 1e-9)
    assert np.median(outward[r > 1.8]) < 0 < np.median(outward[(r < 0.8) & (r > 0.1)])


def test_the_toy_view_computes_its_captions_from_the_frames(ring):
    from radioviz.app.toy_view import ToyState, toy_frames

    state = ToyState(cloud="ring", steps=8, particles=200)
    state.model = ring
    state.sample()
    f = state.frames
    assert f["n"] == 8 and len(f["xs"]) == 8 and len(f["paths_x"]) == 40 and state.version == 1
    assert "best guess for any particle is the average" in f["caption"][0]  # σ = 80: guesses collapse
    assert "spread like the cloud" in f["caption"][-1] and "200 particles" in state.status
    assert toy_frames(ring, sample_toy(ring, 50, 3))["n"] == 3
