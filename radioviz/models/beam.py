"""The instrument's beam as a fixed layer: a generator's clean-image estimate passes through it.

Why: every real GLEAM image is the sky convolved with the restoring beam (~4–5 pixels FWHM in
each band's native grid), so it holds no structure finer than the beam.  A network trained on
such images still leaves sub-beam speckle in its samples (issue #30: 2–7× the real power beyond
0.2 cycles/pixel).  Passing the denoiser's estimate x̂0 through the beam makes every x̂0 — and so
the sampler's last step — an image the telescope could have made, by construction.

The convolution is done where it is physical: in Jy/beam.  Model space is the generators' asinh
stretch z = asinh(x/s_b)/asinh(hi/s_b) (``data.preprocess.generator_normalization``), so the
layer maps z → x, convolves each band with its own Gaussian beam, and maps back.  No weights:
the card's ``beam`` entry (FWHM in pixels per band, the stretch's s_b and hi) rebuilds it.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..io.bands import GLEAM_BANDS, GLEAM_PIXEL_DEG, beam_fwhm_arcmin
from .prediction import check as check_prediction
from .prediction import output_from_x0, x0_from_output


def gleam_beam_fwhm_px(bands=GLEAM_BANDS) -> list[float]:
    """GLEAM's nominal beam FWHM in pixels of each band's native grid, at the band's centre."""
    out = []
    for band in bands:
        out.append(round(beam_fwhm_arcmin(band) / 60.0 / GLEAM_PIXEL_DEG[band], 3))
    return out


#: the beam's amplitude response at the cut-off.  Measured on the 18 real halo cut-outs (projected,
#: then clipped at their own dead band again): a 1e-2 cut-off left them 0.22–0.59× their own power
#: at 0.2–0.5 cycles/px, 1e-3 0.48–0.73×, 1e-4 0.77–0.99× with peaks 0.96–1.01× — real images
#: carry more fine structure than the nominal beam alone (the dead band's edges, pixelisation).
AMPLITUDE_FLOOR = 1e-4


def cutoff_frequency(fwhm_px: float, floor: float = AMPLITUDE_FLOOR) -> float:
    """The spatial frequency (cycles/pixel) where a Gaussian beam of this FWHM has amplitude
    response ``floor``: T(f) = exp(−2π²σ_b²f²), so f_c = √(ln(1/floor) / (2π²σ_b²))."""
    sigma = fwhm_px / (2.0 * math.sqrt(2.0 * math.log(2.0)))
    return math.sqrt(math.log(1.0 / floor) / (2.0 * math.pi**2 * sigma**2))


class BeamLayer(nn.Module):
    """z (model space, B×C×H×W) → the same image with nothing finer than each band's beam.

    A projection, not a blur: in Jy/beam, each band's Fourier components beyond the frequency
    where its beam's response falls to ``floor`` (:func:`cutoff_frequency`) are removed.  Being
    idempotent matters: a beam-limited image passes unchanged, so EDM's skip path (D ≈ x at low
    noise) stays exact and real images — already beam-limited — are not smoothed a second time.
    (A Gaussian blur instead broadens every estimate again at every sampler step: tried, peaks
    fell to 0.3×.)
    """

    def __init__(
        self,
        fwhm_px: list[float],
        soft: list[float],
        hi: float,
        z_clip: float = 2.0,
        floor: float = AMPLITUDE_FLOOR,
    ):
        super().__init__()
        if not (len(fwhm_px) == len(soft)) or min(fwhm_px) <= 0 or min(soft) <= 0 or hi <= 0:
            raise ValueError(f"beam needs one positive FWHM and softening per band, got {fwhm_px}, {soft}")
        self.fwhm_px, self.soft_list, self.hi, self.z_clip = list(fwhm_px), list(soft), float(hi), z_clip
        if not 0 < floor < 1:
            raise ValueError(f"beam amplitude floor {floor} is outside (0, 1)")
        self.floor = float(floor)
        self.cutoff = [round(cutoff_frequency(f, floor), 4) for f in fwhm_px]
        s = torch.tensor(soft, dtype=torch.float32).reshape(1, -1, 1, 1)
        self.register_buffer("soft", s, persistent=False)
        self.register_buffer("span", torch.asinh(self.hi / s), persistent=False)
        self._masks: dict[tuple[int, int, str], torch.Tensor] = {}

    def mask(self, h: int, w: int, device) -> torch.Tensor:
        """(C, H, W//2+1) 0/1 pass mask of the real FFT for an H×W image."""
        key = (h, w, str(device))
        if key not in self._masks:
            fy = torch.fft.fftfreq(h)[:, None]
            fx = torch.fft.rfftfreq(w)[None, :]
            r = torch.sqrt(fy**2 + fx**2)
            self._masks[key] = torch.stack([(r <= c).float() for c in self.cutoff]).to(device)
        return self._masks[key]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # clamp: at high noise the raw estimate may leave [−1, 1]; sinh would amplify it
        x = self.soft * torch.sinh(z.clamp(-self.z_clip, self.z_clip) * self.span)
        h, w = x.shape[-2:]
        x = torch.fft.irfft2(torch.fft.rfft2(x) * self.mask(h, w, x.device), s=(h, w))
        return torch.asinh(x / self.soft) / self.span

    def to_card(self) -> dict:
        return {
            "fwhm_px": self.fwhm_px,
            "cutoff_cycles_per_px": self.cutoff,
            "soft": self.soft_list,
            "hi": self.hi,
            "z_clip": self.z_clip,
            "amplitude_floor": self.floor,
            "operation": "Fourier projection in Jy/beam: what the beam passes below its floor removed",
            "applied_to": "the denoiser's clean-image estimate x̂0 (EDMPrecond; a DDPM's through "
            "BeamLimitedDDPM) and the training target",
        }

    @classmethod
    def from_card(cls, beam: dict) -> BeamLayer:
        return cls(
            beam["fwhm_px"],
            beam["soft"],
            beam["hi"],
            float(beam.get("z_clip", 2.0)),
            float(beam.get("amplitude_floor", AMPLITUDE_FLOOR)),
        )


class BeamLimitedDDPM(nn.Module):
    """A DDPM network whose every clean-image estimate is beam-limited: its output at x_t is
    replaced by the output that stands for x̂0 passed through the beam.

    The DDPM's counterpart of :class:`~radioviz.models.precond.EDMPrecond`'s ``beam``: samplers,
    lessons and the ε they see are unchanged (the wrapper answers in the network's own
    prediction, ε or v), and the training loss on this output is the loss on the beam-limited
    x̂0 with the prediction's own weighting.  The DDPM's images are the asinh stretch times
    ``data_scale``, so the beam sees x̂0 / data_scale.
    """

    def __init__(
        self,
        net: nn.Module,
        beam: BeamLayer,
        prediction: str,
        alphas_cumprod: torch.Tensor,
        data_scale: float = 1.0,
    ):
        super().__init__()
        self.net, self.beam, self.prediction = net, beam, check_prediction(prediction)
        self.data_scale = float(data_scale)
        self.register_buffer("acp", alphas_cumprod.detach().float().clone(), persistent=False)

    def forward(self, x: torch.Tensor, t: torch.Tensor, **cond) -> torch.Tensor:
        out = self.net(x, t, **cond)
        a = self.acp[t.long()].reshape(-1, *([1] * (x.ndim - 1)))
        x0 = x0_from_output(self.prediction, out, x, a)
        limited = self.beam(x0 / self.data_scale) * self.data_scale
        return output_from_x0(self.prediction, limited, x, a)
