"""Peak flux as a conditioning value: Box-Cox transformed and standardised (Martinez et al.).

Peak flux here is the brightest pixel of a cut-out over all four bands, in Jy/beam (for these
steep-spectrum sources that is the 72–103 MHz band's peak).  λ, mean and std are fitted on the
training images and stored in the model card, so ``to_model``/``from_model`` round-trip.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats


def peak_flux(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) Jy/beam -> (N,) brightest pixel."""
    return np.nanmax(images.reshape(len(images), -1), axis=1)


@dataclass(frozen=True)
class FluxTransform:
    lam: float
    mean: float
    std: float
    floor: float = 1e-3  # Jy/beam; Box-Cox needs positive values

    @classmethod
    def fit(cls, peaks: np.ndarray) -> FluxTransform:
        p = np.maximum(np.asarray(peaks, dtype=np.float64), 1e-3)
        z, lam = stats.boxcox(p)
        return cls(float(lam), float(z.mean()), float(z.std() + 1e-12))

    def to_model(self, peaks) -> np.ndarray:
        p = np.maximum(np.asarray(peaks, dtype=np.float64), self.floor)
        z = np.log(p) if abs(self.lam) < 1e-8 else (p**self.lam - 1) / self.lam
        return ((z - self.mean) / self.std).astype(np.float32)

    def from_model(self, values) -> np.ndarray:
        z = np.asarray(values, dtype=np.float64) * self.std + self.mean
        return (
            np.exp(z) if abs(self.lam) < 1e-8 else np.power(np.maximum(z * self.lam + 1, 1e-12), 1 / self.lam)
        )

    def to_dict(self) -> dict:
        return {"transform": "box-cox, standardised", **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> FluxTransform:
        return cls(d["lam"], d["mean"], d["std"], d.get("floor", 1e-3))
