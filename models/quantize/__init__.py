"""Model pipeline."""
