"""Networks (classifiers now; generators later) and their safetensors + model-card checkpoints."""
