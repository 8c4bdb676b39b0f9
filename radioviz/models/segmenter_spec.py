"""What a segmenter card may say, without torch: its normalisation layers, its classes and the
geometry of its receptive field (the tile overlap a card's ``tile`` is checked against).

:mod:`radioviz.models.card` validates with these and :mod:`radioviz.models.segmenter` builds
with them, so neither imports the other.
"""

from __future__ import annotations

#: The segmenter's normalisation layer: "group" is the first shipped detector's (not tile-local);
#: "batch" and "none" are.
NORMS = ("group", "batch", "none")
#: The classes of a multi-class detector, in its output channels' order ("background" holds compact
#: sources, noise and artefacts).  A one-channel detector (the first ones) answers "diffuse or not".
CLASSES = ("background", "halo", "minihalo", "relic", "radio_galaxy")
#: What a candidate's class is called on the page.
CLASS_NAMES = {"halo": "halo", "minihalo": "mini-halo", "relic": "relic", "radio_galaxy": "radio galaxy"}


# -- receptive field -------------------------------------------------------------------------------


def input_span(depth: int, p: int) -> tuple[int, int]:
    """Input pixels [lo, hi] (along one axis) that output pixel ``p`` of a :class:`SegmenterUNet`
    of ``depth`` can depend on: two 3×3 convs per block, 2× max-pool down, 2×2 stride-2
    transposed conv up (output q reads input q // 2), skips concatenated.  Exact interval
    arithmetic of the architecture, ignoring the input's extent (zero padding only shrinks it)."""

    def enc(level: int, a: int, b: int) -> tuple[int, int]:  # encoder block output → input
        a, b = a - 2, b + 2
        return (a, b) if level == 0 else enc(level - 1, 2 * a, 2 * b + 1)

    def dec(level: int, a: int, b: int) -> tuple[int, int]:  # decoder (or bottleneck) output → input
        a, b = a - 2, b + 2
        if level == depth:
            return enc(depth - 1, 2 * a, 2 * b + 1)
        (sa, sb), (ua, ub) = enc(level, a, b), dec(level + 1, a // 2, b // 2)
        return min(sa, ua), max(sb, ub)

    return dec(0, p, p)


def receptive_field(depth: int) -> int:
    """Width in pixels of the input an output pixel sees (the widest over pooling phases)."""
    return max(hi - lo + 1 for lo, hi in (input_span(depth, p) for p in range(2**depth)))


def reach(depth: int) -> int:
    """Most pixels an output pixel's input extends to one side: the overlap a tile needs so its
    interior equals the one-piece map (≥ receptive_field / 2, the pooling phase makes it lopsided)."""
    return max(max(p - lo, hi - p) for p, (lo, hi) in ((p, input_span(depth, p)) for p in range(2**depth)))


def tile_overlap(depth: int) -> int:
    """:func:`reach` rounded up to the pooling grid (tiles must start on multiples of ``2**depth``)."""
    m = 2**depth
    return -(-reach(depth) // m) * m
