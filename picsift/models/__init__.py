"""Model loading and the offline toy models."""
