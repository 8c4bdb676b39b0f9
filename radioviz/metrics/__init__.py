"""Metrics: classification scores now; image-statistics metrics for generators later."""
