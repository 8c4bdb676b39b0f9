"""Synthetic GLEAM-like four-band fields with truth masks and catalogues (see :mod:`.sky`)."""

from .sky import SimConfig, SimulatedField, simulate_field, write_field

__all__ = ["SimConfig", "SimulatedField", "simulate_field", "write_field"]
