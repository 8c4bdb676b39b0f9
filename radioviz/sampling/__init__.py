"""Diffusion sampling: noise schedules and samplers as small functions over a denoiser.

Every sampler returns a :class:`~radioviz.sampling.trajectory.Trajectory` and calls a per-step
callback (for progress bars and Cancel), after k-diffusion's design.
"""
