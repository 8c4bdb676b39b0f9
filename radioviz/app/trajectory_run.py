"""One recorded sampling run together with the settings that made it.

The Trajectory tab draws its frames, its noise-schedule plot and its captions from one
:class:`TrajectoryRun`, never from the pickers: after a model or sampler switch the captions had
followed the new pickers while the frames and the schedule were still the old run (issue #28).
When the pickers no longer match the run shown, :func:`outdated_note` says so in words.  The
run also knows its own model's normalisation (x̂0 in Jy/beam) and the landmarks of each band
(:mod:`radioviz.sampling.landmarks`) that the "What to notice" line and the process plot show.

No UI imports: tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.preprocess import Normalization
from ..models.card import ModelCard
from ..sampling.landmarks import Landmarks, landmarks
from ..sampling.registry import SAMPLERS
from ..sampling.schedules import DiscreteSchedule
from ..sampling.trajectory import Trajectory
from .teaching import card_notes, explanations

#: σ is drawn at least this on the log axis (a Karras run ends at σ = 0)
SIGMA_FLOOR = 1e-4


@dataclass(frozen=True, eq=False)
class TrajectoryRun:
    """A trajectory and the model (file name, kind, beam), sampler, steps and seed it came from;
    ``schedule`` is that model's discrete schedule (ᾱ_t of DDPM steps is read from it) and
    ``normalization`` its map between Jy/beam and the model's scale (None: unknown)."""

    trajectory: Trajectory
    model: str
    kind: str
    sampler: str
    steps: int
    seed: int
    beam: bool = False
    schedule: DiscreteSchedule = field(default_factory=DiscreteSchedule)
    normalization: Normalization | None = None
    prediction: str = "epsilon"  # what a DDPM's network outputs (models/prediction.py)
    # the clean data's own standard deviation on the model's scale: an EDM's σ_data (≈ 0.07 on the
    # asinh scale), 1 for a DDPM (it diffuses data scaled to unit variance); SNR = signal_sigma²/σ²
    signal_sigma: float = 1.0
    _landmarks: dict = field(default_factory=dict, repr=False, init=False)  # band -> Landmarks, once

    @classmethod
    def of(
        cls, trajectory: Trajectory, model: str, card: ModelCard | None, sampler: str, steps: int, seed: int
    ) -> TrajectoryRun:
        """The run of ``model`` (its card, when known, gives kind, beam and schedule)."""
        kind = card.kind if card is not None else ("ddpm" if trajectory.ts else "edm")
        notes = card_notes(card)
        schedule = DiscreteSchedule(**((card.schedule if card is not None else None) or {}))
        pre = card.preprocessing if card is not None else None
        norm = pre.normalization if pre is not None else None
        pc = (card.precond if card is not None else None) or {}
        signal = float(pc.get("sigma_data", 1.0)) if kind == "edm" else 1.0
        return cls(
            trajectory,
            model,
            kind,
            sampler,
            int(steps),
            int(seed),
            notes["beam"],
            schedule,
            norm,
            notes["prediction"],
            signal,
        )

    def __len__(self) -> int:
        return len(self.trajectory)

    def settings(self) -> tuple[str, str, int, int]:
        """(model, sampler, steps, seed): what the pickers must show for this run to be theirs."""
        return self.model, self.sampler, self.steps, self.seed

    def describe(self) -> str:
        """ "edm_gleam (EDM) · Heun · 25 steps · seed 0"."""
        label = SAMPLERS[self.sampler].label if self.sampler in SAMPLERS else self.sampler
        stem = Path(self.model).name.removesuffix(".safetensors")
        return f"{stem} ({self.kind.upper()}) · {label} · {self.steps} steps · seed {self.seed}"

    def captions(self) -> dict[str, str]:
        """The panels' explanations for this run's model kind and sampler."""
        return explanations(self.kind, self.sampler, beam=self.beam, prediction=self.prediction)

    def flux(self, images: np.ndarray) -> np.ndarray | None:
        """Model-scale images (..., C, H, W) of this run in Jy/beam (clipped to the model's
        [−1, 1] first); None when the model's normalisation is unknown or cannot be inverted."""
        return flux_of(self.normalization, images)

    def landmarks(self, band: int) -> Landmarks:
        """When the picture is made in ``band``: from x_t and x̂0 of every recorded step and the
        final sample, x̂0's peak read in Jy/beam."""
        if band not in self._landmarks:
            self._landmarks[band] = trajectory_landmarks(self.trajectory, band, self.normalization)
        return self._landmarks[band]

    def schedule_curve(self) -> dict[str, list]:
        """σ and SNR = signal_sigma²/σ² at each recorded step (1-based, as the player counts)."""
        sig = np.maximum(np.asarray(self.trajectory.sigmas, float), SIGMA_FLOOR)
        snr = (self.signal_sigma / sig) ** 2
        return {"step": list(range(1, len(sig) + 1)), "sigma": sig.tolist(), "snr": snr.tolist()}

    def schedule_axes(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """(x range, log-y range) of the schedule plot: exactly this run's recorded steps, so a
        25-step run is never drawn on a 50-step axis."""
        curve = self.schedule_curve()
        n = max(1, len(curve["step"]))
        values = np.asarray(curve["sigma"] + curve["snr"] or [1.0])
        return (0.5, n + 0.5), (float(values.min()) / 2, float(values.max()) * 2)


def outdated_note(run: TrajectoryRun | None, model, sampler, steps, seed) -> str:
    """Empty when ``run`` is what the pickers (model, sampler, steps, seed) would make, else the
    words shown above its greyed frames."""
    if run is None or run.settings() == (model, sampler, steps, seed):
        return ""
    return (
        f"From the previous settings — press Sample for the new ones. Shown, with its own "
        f"schedule and captions: {run.describe()}."
    )


def data_scale(traj: Trajectory, k: int) -> np.ndarray:
    """x_t of recorded step k on the data scale, (C, H, W): discrete samplers record
    √ᾱ·x0 + …, σ-space ones x0 + σ·n (divided by √(1+σ²))."""
    x = traj.xs[k][0]
    return x if traj.ts else x / np.sqrt(1 + traj.sigmas[k] ** 2)


def flux_of(norm: Normalization | None, images: np.ndarray) -> np.ndarray | None:
    """Model-scale ``images`` in Jy/beam, or None when ``norm`` is unknown or per-image (not
    invertible); a single-band model's images carry their one band."""
    if norm is None:
        return None
    try:
        return norm.from_model(np.clip(images, -1.0, 1.0))
    except ValueError:
        return None


def trajectory_landmarks(traj: Trajectory, band: int, norm: Normalization | None = None) -> Landmarks:
    """The landmarks of one band of a recorded run (the two-conditioning runs use this too)."""
    xt = np.stack([data_scale(traj, k)[band] for k in range(len(traj))])
    x0 = np.stack([d[0] for d in traj.denoised])
    final = traj.samples[0]
    x0_flux, final_flux = flux_of(norm, x0), flux_of(norm, final)
    if x0_flux is None or final_flux is None:
        return landmarks(xt, x0[:, band], final[band])
    return landmarks(xt, x0[:, band], final[band], x0_flux[:, band], final_flux[band])
