"""Preprocessing (noise, clipping, cut-outs, normalisation), augmentation, splits, data sets."""
