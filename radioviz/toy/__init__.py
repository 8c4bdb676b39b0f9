"""A 2-D toy diffusion beside the real model (issue #28): a few point clouds, a small denoiser
trained in seconds on the CPU, and the same samplers and player as the image models, so a student
sees on 2 000 particles in a plane what happens in 4 096 dimensions on a radio image."""
