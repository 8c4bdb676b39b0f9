"""GLEAM bands and how to tell which one a file holds.

The published files carry no frequency keyword, so the band comes from the header when a
frequency is there and otherwise from the file name (both published name patterns, plus the
single-frequency names of the MWA Phase-II evaluation set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from astropy.io import fits


@dataclass(frozen=True, order=True)
class Band:
    """A frequency band in MHz; a single-frequency image has ``low == high``."""

    low: float
    high: float

    @property
    def centre(self) -> float:
        return 0.5 * (self.low + self.high)

    @property
    def name(self) -> str:
        if self.low == self.high:
            return f"{self.low:g}MHz"
        return f"{self.low:g}-{self.high:g}MHz"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.name


#: The four wide GLEAM bands the published data uses, ordered by frequency.
GLEAM_BANDS: tuple[Band, ...] = (
    Band(72, 103),
    Band(103, 134),
    Band(139, 170),
    Band(170, 231),
)

#: Native pixel scale (deg) of each GLEAM band in the published files (reference.md §1).
GLEAM_PIXEL_DEG: dict[Band, float] = dict(
    zip(GLEAM_BANDS, (0.015556, 0.012222, 0.009444, 0.007778), strict=True)
)

#: GLEAM's synthesised beam: ~2′ FWHM at 200 MHz (Hurley-Walker et al. 2017), scaling as 1/ν.
#: One definition for the simulator, the generators' beam layer and the detector's residual input.
REFERENCE_MHZ = 200.0
BEAM_FWHM_ARCMIN_200MHZ = 2.0


def beam_fwhm_arcmin(band: Band) -> float:
    """GLEAM's nominal beam FWHM (arcmin) at the band's centre."""
    return BEAM_FWHM_ARCMIN_200MHZ * REFERENCE_MHZ / band.centre


#: Centre frequencies (MHz) of the MWA Phase-II single-frequency images.
MWA_FREQUENCIES = (88, 118, 154, 185, 216)

_GLEAM_RANGE = re.compile(r"(?i)gleam[ _-]?(\d{2,3})-(\d{2,3})(?:mhz)?")
_MHZ_RANGE = re.compile(r"(?i)(\d{2,3})-(\d{2,3})mhz")
_SINGLE = re.compile(r"(?i)(\d+(?:\.\d+)?)mhz")


def gleam_band_for(freq_mhz: float) -> Band | None:
    """The wide GLEAM band containing ``freq_mhz`` (None outside 72–231 MHz)."""
    for band in GLEAM_BANDS:
        if band.low <= freq_mhz <= band.high:
            return band
    return None


@dataclass(frozen=True)
class BandMatch:
    """Where the band was found in a file name: the band and the matched text span."""

    band: Band
    start: int
    end: int


def band_from_name(name: str) -> BandMatch | None:
    """Find the band token in a file name.

    Handles ``Gleam72-103``, ``GLEAM_72-103MHz`` and single frequencies such as
    ``field1118mhz`` (118 MHz) or ``mwa288mhz`` (88 MHz): digits run together with a field
    number, so the longest suffix of the digit run that is a known MWA frequency wins.
    """
    for pattern in (_GLEAM_RANGE, _MHZ_RANGE):
        m = pattern.search(name)
        if m:
            lo, hi = float(m.group(1)), float(m.group(2))
            if lo < hi:
                return BandMatch(Band(lo, hi), m.start(), m.end())
    m = _SINGLE.search(name)
    if m:
        digits = m.group(1)
        start = m.start(1)
        if "." not in digits:
            for k in range(len(digits)):
                if int(digits[k:]) in MWA_FREQUENCIES:
                    return BandMatch(Band(float(digits[k:]), float(digits[k:])), start + k, m.end())
            if len(digits) > 3:  # ambiguous run of digits with no known frequency
                return None
        f = float(digits)
        return BandMatch(Band(f, f), start, m.end())
    return None


def frequency_from_header(header: fits.Header) -> float | None:
    """Frequency in MHz from header keywords, or None.  Spectral axes are found by CTYPE."""
    naxis = int(header.get("NAXIS", 0) or header.get("WCSAXES", 0) or 0)
    for i in range(1, max(naxis, 4) + 1):
        ctype = str(header.get(f"CTYPE{i}", "")).upper()
        if ctype.startswith("FREQ") and f"CRVAL{i}" in header:
            unit = str(header.get(f"CUNIT{i}", "Hz")).strip() or "Hz"
            return _to_mhz(float(header[f"CRVAL{i}"]), unit)
    for key in ("FREQ", "RESTFRQ", "RESTFREQ", "OBSFREQ", "CENTFREQ", "FREQCEN"):
        if key in header:
            try:
                return _to_mhz(float(header[key]), "Hz")
            except (TypeError, ValueError):
                continue
    return None


def _to_mhz(value: float, unit: str) -> float:
    unit = unit.lower()
    scale = {"hz": 1e-6, "khz": 1e-3, "mhz": 1.0, "ghz": 1e3}.get(unit)
    if scale is None:  # bare numbers: guess from magnitude
        scale = 1e-6 if value > 1e5 else 1.0
    if unit == "hz" and value < 1e5:  # already MHz despite the unit
        scale = 1.0
    return value * scale


def band_from_header(header: fits.Header) -> Band | None:
    """The GLEAM band if the header frequency falls inside one, else a single-frequency band."""
    if "RVBANDLO" in header and "RVBANDHI" in header:
        return Band(float(header["RVBANDLO"]), float(header["RVBANDHI"]))
    f = frequency_from_header(header)
    if f is None:
        return None
    return gleam_band_for(f) or Band(round(f, 3), round(f, 3))


def detect_band(header: fits.Header | None, filename: str) -> Band | None:
    """Header first, then the file name."""
    if header is not None:
        band = band_from_header(header)
        if band is not None:
            return band
    m = band_from_name(filename)
    return None if m is None else m.band
